# check_link_alone: builds each <lib>_alone shared library (tools/checks/checks.cmake) and
# prints, per library that does not link, the symbols it lacks; fails if any does not link.
#   cmake -DBUILD_DIR=... -DTARGETS="a_alone;b_alone" -P check_link_alone.cmake
set(_failed "")
foreach(_t IN LISTS TARGETS)
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${_t}
                  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  if(_rc EQUAL 0)
    message(STATUS "${_t}: links alone")
  else()
    list(APPEND _failed ${_t})
    string(REGEX MATCHALL "[^\n]*(undefined reference|undefined symbol|DSO missing)[^\n]*"
           _lines "${_out}\n${_err}")
    list(REMOVE_DUPLICATES _lines)
    if(NOT _lines)
      set(_lines "${_out}\n${_err}")
    endif()
    message(STATUS "${_t}: does NOT link alone:")
    foreach(_l IN LISTS _lines)
      message(STATUS "  ${_l}")
    endforeach()
  endif()
endforeach()
list(LENGTH TARGETS _n)
if(_failed)
  message(FATAL_ERROR "check_link_alone: ${_failed} of ${_n} libraries do not link alone")
endif()
message(STATUS "check_link_alone: all ${_n} libraries link alone")
