# package.FindPackageConsumerBuildsAndRuns: installs the build (BUILD_DIR) into WORK_DIR/prefix,
# configures the consumer project (CONSUMER_DIR) with find_package(otp) against that prefix
# only, builds it with the build's compiler and flags (sanitizers included) and runs it.
cmake_minimum_required(VERSION 3.22)

function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/consumer")

step("cmake --install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")
foreach(installed IN ITEMS include/otp/gen_server.hpp lib/cmake/otp/otpConfig.cmake)
  if(NOT EXISTS "${prefix}/${installed}")
    message(FATAL_ERROR "the install has no ${installed}")
  endif()
endforeach()

step("configuring the consumer" "${CMAKE_COMMAND}"
  -S "${CONSUMER_DIR}" -B "${build}" -G "${GENERATOR}"
  "-DCMAKE_PREFIX_PATH=${prefix}"
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
  "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
  "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}"
  "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
  "-DCMAKE_EXE_LINKER_FLAGS=${EXE_LINKER_FLAGS}")
step("building the consumer" "${CMAKE_COMMAND}" --build "${build}")
step("running the consumer" "${build}/consumer")
message(STATUS "consumer: ${step_output}")
if(NOT step_output MATCHES "counter: 3")
  message(FATAL_ERROR "the consumer printed \"${step_output}\", not \"counter: 3\"")
endif()
