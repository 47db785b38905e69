# package.NewAppBuildsAndPassesItsTests: scripts/new_app.py refuses a bad name and an existing
# folder, writing nothing; then writes an application into WORK_DIR, which is configured against
# this build installed into WORK_DIR/prefix (not against common/: no libotp is built with it),
# built with the build's compiler and flags, and whose tests pass.
cmake_minimum_required(VERSION 3.22)

function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

# refused(<what it must say> <command>...): fails, says so on stderr, writes nothing.
function(refused want)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0 OR NOT err MATCHES "${want}" OR NOT err MATCHES "nothing written")
    message(FATAL_ERROR "${ARGN}: exit status ${rc}, stderr \"${err}\" (wanted \"${want}\")")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
set(app "${WORK_DIR}/hello_app")
set(new_app "${SOURCE_DIR}/scripts/new_app.py")

refused("is not a name" "${PYTHON}" "${new_app}" Hello-App "${WORK_DIR}/bad")
refused("is a keyword" "${PYTHON}" "${new_app}" class "${WORK_DIR}/bad")
if(EXISTS "${WORK_DIR}/bad")
  message(FATAL_ERROR "a refused name left ${WORK_DIR}/bad")
endif()
file(WRITE "${WORK_DIR}/taken/notes.txt" "an attendee's notes\n")
refused("exists" "${PYTHON}" "${new_app}" hello_app "${WORK_DIR}/taken")
file(GLOB_RECURSE left RELATIVE "${WORK_DIR}/taken" "${WORK_DIR}/taken/*")
if(NOT left STREQUAL "notes.txt")
  message(FATAL_ERROR "a refused existing folder now holds: ${left}")
endif()
file(GLOB stray "${WORK_DIR}/.*")
if(stray)
  message(FATAL_ERROR "a refused run left ${stray}")
endif()

step("new_app.py" "${PYTHON}" "${new_app}" hello_app "${app}")
step("cmake --install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")
step("configuring the application" "${CMAKE_COMMAND}"
  -S "${app}" -B "${app}/build" -G "${GENERATOR}"
  "-Dotp_DIR=${prefix}/lib/cmake/otp"
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
  "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
  "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}"
  "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
  "-DCMAKE_EXE_LINKER_FLAGS=${EXE_LINKER_FLAGS}")
step("building the application" "${CMAKE_COMMAND}" --build "${app}/build")
file(GLOB_RECURSE runtime_built "${app}/build/*libotp*")
if(runtime_built)
  message(FATAL_ERROR "the application built the runtime instead of finding it: ${runtime_built}")
endif()
step("the application's tests" "${CMAKE_CTEST_COMMAND}" --test-dir "${app}/build"
  --output-on-failure)
message(STATUS "${step_output}")
if(NOT step_output MATCHES "100% tests passed, 0 tests failed out of 3")
  message(FATAL_ERROR "the application's tests did not all run and pass:\n${step_output}")
endif()
# Its console, a script on stdin: the counter counts, and starts again from 0 after a crash.
# The supervisor restarts it a moment after the crash, which a `count` right after `boom` may
# come before (no process): the count is asked again, after a pause, up to five times.
file(WRITE "${WORK_DIR}/commands"
  "bump\nbump 2\ncount\nboom\nsleep 100ms\ncount\nsleep 100ms\ncount\nsleep 100ms\ncount\nsleep 100ms\ncount\nsleep 100ms\ncount\n")
execute_process(COMMAND "${app}/build/hello_app" INPUT_FILE "${WORK_DIR}/commands"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "console:\n${out}")
if(NOT rc EQUAL 0 OR NOT out MATCHES
    "^1\n3\n3\n[^\n]*boom[^\n]*\n(:ok\n[^\n]*no process[^\n]*\n)*(:ok\n0\n)+$")
  message(FATAL_ERROR "the console answered (${rc}):\n${out}\n${err}")
endif()
