#!/usr/bin/env python3
"""clang-tidy with the repository's .clang-tidy on the C++ files a change touches.

  scripts/lint.sh                 the changed files (below); with none, it lints nothing and passes
  scripts/lint.sh --all           every .cpp of the compile database (the headers through them)
  scripts/lint.sh FILE...         these files
  options: -p DIR   the build folder with compile_commands.json (default build/dev)
           -j N     clang-tidy runs at a time (default 2)
           --self-test  first, a file with a planted finding must fail (the ctest test does this,
                        so that a lint that cannot fail does not pass)

The changed files: the .cpp and .hpp files that differ from the merge base of HEAD and the
branch's upstream (else origin/main, else the local main), uncommitted and untracked ones
included: what a merge of the branch into main would bring. On a clean clone of main nothing
differs. LINT_BASE=<commit> chooses the base instead (LINT_BASE=HEAD~1: the last commit and the
working tree).

A finding in a changed file fails (clang-tidy's --warnings-as-errors); findings in the headers
that a changed file includes are shown only when those headers changed too (--header-filter), so
that a change answers for its own lines. A header is linted as itself, with the compile command
clang-tidy infers from a neighbouring file of the compile database. A .cpp that the compile
database does not build (the fuzz targets: their own build, scripts/fuzz.sh) is left out.

It is the ctest test lint.ClangTidy (label lint, the dev preset), beside lint.ClangFormat.
Exit status: 0 clean, 1 findings, 2 no clang-tidy or no compile database.
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = (".cpp", ".cc")
HEADERS = (".hpp", ".h")


def git(*args):
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout


def merge_base():
    """The commit a change is measured from (the module's docstring says which)."""
    if os.environ.get("LINT_BASE"):
        return os.environ["LINT_BASE"]
    for ref in ("@{upstream}", "origin/main", "main"):
        found = subprocess.run(["git", "rev-parse", "--verify", "--quiet", ref + "^{commit}"],
                               cwd=ROOT, capture_output=True, text=True)
        if found.returncode == 0:
            return git("merge-base", "HEAD", found.stdout.strip()).strip()
    return "HEAD"


def changed_files():
    base = merge_base()
    names = git("diff", "--name-only", "--diff-filter=d", base, "--").splitlines()
    names += git("ls-files", "--others", "--exclude-standard").splitlines()
    return base, sorted({n for n in names if n.endswith(SOURCES + HEADERS)})


def compile_database(build_dir):
    path = os.path.join(build_dir, "compile_commands.json")
    if not os.path.exists(path):
        sys.exit(f"lint: no {path}; configure first (cmake --preset dev)")
    with open(path) as f:
        entries = json.load(f)
    return {os.path.realpath(os.path.join(e["directory"], e["file"])) for e in entries}


def clang_tidy(tidy, build_dir, path, header_filter):
    command = [tidy, "-p", build_dir, f"--config-file={ROOT}/.clang-tidy", "--quiet",
               "--warnings-as-errors=*", path]
    if header_filter is not None:
        command.insert(1, f"--header-filter={header_filter}")
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    # "N warnings generated." and the count of the suppressed ones are noise here.
    noise = re.compile(r"^\d+ warnings? (and \d+ errors? )?generated\.$|^Suppressed \d+ warnings|"
                       r"^Use -header-filter=|^\d+ warnings? treated as errors?$")
    text = "\n".join(l for l in (run.stdout + run.stderr).splitlines() if not noise.match(l))
    return run.returncode, text


def self_test(tidy, build_dir):
    """A planted finding (0 for a null pointer: modernize-use-nullptr) must fail the lint."""
    with tempfile.TemporaryDirectory(prefix="lint-plant-") as folder:
        plant = os.path.join(folder, "planted.cpp")
        with open(plant, "w") as f:
            f.write("int* planted_pointer() { return 0; }\n")
        status, text = clang_tidy(tidy, build_dir, plant, None)
    if status == 0 or "modernize-use-nullptr" not in text:
        print(f"lint: a planted finding passed clang-tidy (status {status}):\n{text}",
              file=sys.stderr)
        return False
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="files to lint (default: the changed ones)")
    parser.add_argument("--all", action="store_true", help="every .cpp of the compile database")
    parser.add_argument("-p", dest="build_dir", default=os.path.join(ROOT, "build", "dev"))
    parser.add_argument("-j", dest="jobs", type=int, default=2)
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()

    tidy = os.environ.get("CLANG_TIDY", "clang-tidy")
    if not shutil.which(tidy):
        print(f"lint: {tidy} not found (Debian: apt-get install clang-tidy)", file=sys.stderr)
        return 2
    build_dir = os.path.abspath(args.build_dir)
    database = compile_database(build_dir)
    if args.self_test and not self_test(tidy, build_dir):
        return 1

    header_filter = None  # .clang-tidy's HeaderFilterRegex: every header of the project
    if args.all:
        files = sorted(f for f in database  # the sources, not the build's generated files
                       if f.startswith(ROOT + os.sep) and not f.startswith(build_dir + os.sep))
        what = "every file of the compile database"
    else:
        if args.files:
            names, what = args.files, "the files named"
        elif subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=ROOT,
                            capture_output=True).returncode != 0:
            names, what = [], "not a git checkout: no change to lint"
        else:
            base, names = changed_files()
            what = f"the files changed since {base[:12]}"
        files = [os.path.realpath(os.path.join(ROOT, n)) for n in names]
        # The changed headers, wherever a file's #include finds them (by their path in the tree).
        headers = [re.escape(os.path.relpath(f, ROOT)) for f in files if f.endswith(HEADERS)]
        header_filter = "(^|/)(" + "|".join(headers) + ")$" if headers else "^$"
        left_out = [f for f in files if f.endswith(SOURCES) and f not in database]
        for f in left_out:
            print(f"lint: {os.path.relpath(f, ROOT)}: not in the compile database, left out")
        files = [f for f in files if f not in left_out]

    if not files:
        print(f"lint: nothing to lint ({what})")
        return 0
    count = f"{len(files)} file" + ("s" if len(files) != 1 else "")
    print(f"lint: clang-tidy on {count} ({what})", flush=True)
    failed = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        runs = {pool.submit(clang_tidy, tidy, build_dir, f, header_filter): f for f in files}
        for run in concurrent.futures.as_completed(runs):
            status, text = run.result()
            name = os.path.relpath(runs[run], ROOT)
            if status != 0:
                failed.append(name)
                print(f"--- {name}\n{text}", flush=True)
    if failed:
        print(f"lint: findings in {len(failed)} of {count}; fix them, or silence one "
              "with // NOLINT(<check>): <why>", file=sys.stderr)
        return 1
    print(f"lint: {count} clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
