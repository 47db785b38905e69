# otp_warnings(target): the project's warning set.
# otp_program(...): a program built on the runtime, with its tests — what each tutorial stage
# and each lab is. One call in the folder's CMakeLists.txt:
#
#   otp_program(NAME hang_ten LABEL stage
#               SOURCES src/main.cpp
#               TESTS tests/console_test.cpp tests/hang_ten_test.cpp
#               OBSERVER                       # optional: the web observer in its console
#               LIBRARIES otp::redis)          # optional: more than otp::console
#
# builds
#   * <NAME>_<folder>, the program (its file is called NAME), linked with otp::console and the
#     LIBRARIES; with OBSERVER also with otp::observer, and registered with its console (the
#     console's `observer` command and --observer flags; otp/observer/console.hpp), in the program
#     and in its tests;
#   * <NAME>_<folder>_tests, its GoogleTest tests, with the folder's src/ on the include path and
#     OTP_PROGRAM naming the program's file; each test is a ctest test named
#     <folder>.<Suite>.<Test> with the ctest label LABEL (stage, lab, ...).
# Tests are left out when OTP_PROGRAM_TESTS is OFF (a build of the program alone). The calling
# CMakeLists.txt calls enable_testing() itself: inside a function it would not reach ctest.
#
# A workshop copy (scripts/workshop.sh, docs/workshop.md: the folder has .workshop/exercises.tsv)
# builds the same way, with the stubs' unused parameters left unwarned, otp/workshop.hpp (the
# stub, otp::workshop::todo) included in every file, the runtime's headers precompiled, and, in
# every test program, the listener of otp/testing/workshop.hpp that reports a test stopped by a
# stub as the exercise it waits for.
include_guard(GLOBAL)

# A program built alone (a stage, a lab, a workshop copy) with no build type chosen: debuggable,
# and fast. (The repository's top level chooses Debug before it gets here.) C++20 comes with
# otp::otp (a public compile feature); the programs and tests below are built without GNU
# extensions.
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()

# A workshop copy's edit loop (save a stage header, ./workshop) recompiles the program and every
# test file that includes the header: the runtime's headers, GoogleTest's and the console's are
# the most of each file's compile time, so they are compiled once into a precompiled header (with
# otp/workshop.hpp, which every file of a copy includes). HEADERS: the target's own heavy ones.
# -DCMAKE_DISABLE_PRECOMPILE_HEADERS=ON leaves them out (otp/workshop.hpp is then -include'd).
function(otp_workshop_copy target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "HEADERS")
  if(EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/.workshop/exercises.tsv")
    target_compile_options(${target} PRIVATE
      $<$<CXX_COMPILER_ID:GNU,Clang,AppleClang>:-Wno-unused-parameter -Wno-unused-variable
      -Wno-unused-but-set-variable -Wno-unused-function>)
    if(CMAKE_DISABLE_PRECOMPILE_HEADERS)
      target_compile_options(${target} PRIVATE
        $<$<CXX_COMPILER_ID:GNU,Clang,AppleClang>:-include otp/workshop.hpp>)
    else()
      target_precompile_headers(${target} PRIVATE <otp/workshop.hpp> <otp/otp.hpp> ${arg_HEADERS})
    endif()
  endif()
endfunction()

function(otp_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<CXX_COMPILER_ID:GNU,Clang,AppleClang>:-Wall -Wextra -Wpedantic>)
endfunction()

function(otp_program)
  cmake_parse_arguments(PARSE_ARGV 0 arg "OBSERVER" "NAME;LABEL" "SOURCES;TESTS;LIBRARIES")
  if(NOT arg_NAME OR NOT arg_LABEL OR NOT arg_SOURCES)
    message(FATAL_ERROR "otp_program: NAME, LABEL and SOURCES are required")
  endif()
  get_filename_component(folder "${CMAKE_CURRENT_SOURCE_DIR}" NAME)
  set(program ${arg_NAME}_${folder})

  add_executable(${program} ${arg_SOURCES})
  set_target_properties(${program} PROPERTIES OUTPUT_NAME ${arg_NAME} CXX_EXTENSIONS OFF)
  target_link_libraries(${program} PRIVATE otp::console ${arg_LIBRARIES})
  if(arg_OBSERVER)
    # One line that registers the observer with the console before main runs; a source of the
    # program itself, so that the linker keeps it.
    set(hook "${CMAKE_CURRENT_BINARY_DIR}/${program}_observer.cpp")
    string(CONCAT hook_text "#include \"otp/observer/console.hpp\"\n"
      "[[maybe_unused]] static const bool otp_observer_in_console = otp::observer::serve_in_console();\n")
    file(CONFIGURE OUTPUT "${hook}" CONTENT "${hook_text}")
    target_sources(${program} PRIVATE "${hook}")
    target_link_libraries(${program} PRIVATE otp::observer)
    set_target_properties(${program} PROPERTIES OTP_OBSERVER_HOOK "${hook}")
  endif()
  otp_warnings(${program})
  otp_workshop_copy(${program} HEADERS <otp/console.hpp>)

  if(arg_TESTS)
    otp_program_tests(NAME ${arg_NAME} LABELS ${arg_LABEL} TESTS ${arg_TESTS})
  endif()
endfunction()

# otp_program_tests(NAME <program> [SUFFIX <s>] LABELS <label>... TESTS <files>... [LIBRARIES ...]):
# a test executable for the program NAME of this folder (<NAME>_<folder>_tests, or
# <NAME>_<folder>_<s>_tests), built like otp_program's: for tests with labels of their own, such
# as those that need a server (http, redis, browser).
function(otp_program_tests)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME;SUFFIX" "LABELS;TESTS;LIBRARIES")
  if(NOT DEFINED OTP_PROGRAM_TESTS)
    set(OTP_PROGRAM_TESTS ON)
  endif()
  if(NOT OTP_PROGRAM_TESTS)
    return()
  endif()
  get_filename_component(folder "${CMAKE_CURRENT_SOURCE_DIR}" NAME)
  set(program ${arg_NAME}_${folder})
  if(arg_SUFFIX)
    set(tests ${program}_${arg_SUFFIX}_tests)
  else()
    set(tests ${program}_tests)
  endif()
  get_target_property(libraries ${program} LINK_LIBRARIES)
  find_package(GTest REQUIRED)
  include(GoogleTest)
  add_executable(${tests} ${arg_TESTS})
  set_target_properties(${tests} PROPERTIES CXX_EXTENSIONS OFF)
  target_include_directories(${tests} PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}/src")
  target_link_libraries(${tests} PRIVATE ${libraries} otp::testing ${arg_LIBRARIES}
                        GTest::gtest_main)  # the program's libraries, and these
  target_compile_definitions(${tests} PRIVATE OTP_PROGRAM="$<TARGET_FILE:${program}>")
  get_target_property(observer_hook ${program} OTP_OBSERVER_HOOK)
  if(observer_hook)
    target_sources(${tests} PRIVATE "${observer_hook}")
  endif()
  add_dependencies(${tests} ${program})
  otp_warnings(${tests})
  otp_workshop_copy(${tests} HEADERS <gtest/gtest.h> <otp/console.hpp>
                    <otp/testing/console_driver.hpp>)
  if(EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/.workshop/exercises.tsv")
    set(listener "${CMAKE_CURRENT_BINARY_DIR}/${tests}_workshop.cpp")
    file(WRITE "${listener}" "#include \"otp/testing/workshop.hpp\"\n"
      "static const bool otp_workshop_listener = otp::testing::workshop::install();\n")
    target_sources(${tests} PRIVATE "${listener}")
  endif()
  gtest_discover_tests(${tests}
    TEST_PREFIX "${folder}."
    DISCOVERY_TIMEOUT 60)
  # The labels, set once the tests are listed (gtest_discover_tests's PROPERTIES would lose the
  # `;` of a list of labels on its way through the post-build step).
  file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/${tests}_labels.cmake"
    "if(${tests}_TESTS)\n"
    "  set_tests_properties(\${${tests}_TESTS} PROPERTIES LABELS \"${arg_LABELS}\")\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES
    "${CMAKE_CURRENT_BINARY_DIR}/${tests}_labels.cmake")
endfunction()
