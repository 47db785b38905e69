# otp_library(<target> [SOURCES <file>...] [PUBLIC <lib>...] [PRIVATE <lib>...]
#             [DEFINITIONS <definition>...]): one of the runtime's libraries, each declared the
# same way by one call in common/CMakeLists.txt:
#
#   otp_library(otp_net
#     SOURCES src/net/address.cpp src/net/io.cpp src/net/tcp.cpp
#     PUBLIC otp
#     PRIVATE "$<BUILD_INTERFACE:Boost::headers>"
#     DEFINITIONS BOOST_ASIO_NO_DEPRECATED)
#
# builds
#   * the library <target> (otp, otp_console, ...) with the project's warnings, linked with the
#     PUBLIC and PRIVATE libraries, compiled with the private DEFINITIONS; without SOURCES, a
#     header-only (INTERFACE) library whose interface is PUBLIC;
#   * its alias otp::<name>, <name> being <target> without its otp_ prefix (otp::otp,
#     otp::console, otp::net, ...), the name it also has in the installed package
#     (find_package(otp), common/cmake/otpConfig.cmake.in);
#   * its install rule, into the export set otpTargets that common/CMakeLists.txt installs.
# Pulled into the build of a stage or a lab (OTP_IS_TOP_BUILD is OFF), a library is built only
# when that build links it.
include_guard(GLOBAL)
include(GNUInstallDirs)

function(otp_library target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;PUBLIC;PRIVATE;DEFINITIONS")
  string(REGEX REPLACE "^otp_" "" name "${target}")
  if(arg_SOURCES)
    add_library(${target} ${arg_SOURCES})
    target_link_libraries(${target} PUBLIC ${arg_PUBLIC} PRIVATE ${arg_PRIVATE})
    if(arg_DEFINITIONS)
      target_compile_definitions(${target} PRIVATE ${arg_DEFINITIONS})
    endif()
    otp_warnings(${target})
    if(NOT OTP_IS_TOP_BUILD)
      set_target_properties(${target} PROPERTIES EXCLUDE_FROM_ALL ON)
    endif()
  else()
    add_library(${target} INTERFACE)
    target_link_libraries(${target} INTERFACE ${arg_PUBLIC})
  endif()
  add_library(otp::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name})
  install(TARGETS ${target}
    EXPORT otpTargets
    ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
    LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
    INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
endfunction()
