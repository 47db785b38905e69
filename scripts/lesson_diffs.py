#!/usr/bin/env python3
"""Splits a stage diff into the diffs of its lessons.

    lesson_diffs.py <folder> 04-05

reads <folder>/04-05.diff and docs/diffs/04-05.lessons (one line per lesson, "name: file ...",
paths relative to the stage folder) and writes <folder>/04-05.<name>.diff for each lesson: the
sections of the stage diff whose file the lesson names, in the diff's order. A file of the diff
that no lesson names, or that two name, or a named file the diff does not have, is an error
(status 1), so a new file cannot be left out of every lesson.
"""
import pathlib
import re
import sys


def sections(diff_text):
    """{path relative to the stage folder: its section of the diff}, in order."""
    out = {}
    current = None
    for line in diff_text.splitlines(keepends=True):
        header = re.match(r"diff -ruN \S+ [^/\s]+/(\S+)$", line.rstrip("\n"))
        if header:
            current = header.group(1)
            out[current] = ""
        if current is not None:
            out[current] += line
    return out


def lessons(spec_text):
    """[(name, [files])] from the lessons file, comments and blank lines left out."""
    out = []
    for line in spec_text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, files = line.partition(":")
        out.append((name.strip(), files.split()))
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    folder = pathlib.Path(sys.argv[1])
    pair = sys.argv[2]
    root = pathlib.Path(__file__).resolve().parent.parent
    spec = root / "docs" / "diffs" / f"{pair}.lessons"
    parts = sections((folder / f"{pair}.diff").read_text())
    claimed = {}
    errors = []
    for name, files in lessons(spec.read_text()):
        for f in files:
            if f in claimed:
                errors.append(f"{f} is in lessons {claimed[f]} and {name}")
            elif f not in parts:
                errors.append(f"{f} (lesson {name}) is not in {pair}.diff")
            claimed.setdefault(f, name)
        body = "".join(parts[f] for f in parts if f in files)
        (folder / f"{pair}.{name}.diff").write_text(body)
    errors += [f"{f} is in no lesson: add it to {spec.relative_to(root)}"
               for f in parts if f not in claimed]
    if errors:
        for e in errors:
            print(f"lesson_diffs.py: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
