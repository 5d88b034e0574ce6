# The layout checks (issue 14, ARCHITECTURE.md "Naming"): cheap ctests, label "checks", that keep
# names, member prefixes, library dependencies and the file graph as the architecture says.
# Included at the end of the top-level CMakeLists.txt: it reads every library's final sources.
if(NOT KITE_BUILD_TESTS)
  return()
endif()
set(_checks ${CMAKE_CURRENT_LIST_DIR})
get_property(_kite_libs GLOBAL PROPERTY KITE_LIBRARIES)

# lib=archive (check_symbols) and lib=archive=source_dir (check_no_cycles) for each library.
set(_sym_args "")
set(_graph_args "")
foreach(_lib IN LISTS _kite_libs)
  get_target_property(_dir ${_lib} SOURCE_DIR)
  list(APPEND _sym_args "${_lib}=$<TARGET_FILE:${_lib}>")
  list(APPEND _graph_args "${_lib}=$<TARGET_FILE:${_lib}>=${_dir}")
endforeach()

# 1. Every global symbol is kite_ and declared in an include/kite/ header, or kite__.
add_test(NAME check_symbols
  COMMAND ${KITE_PYTHON} ${_checks}/check_symbols.py --root ${CMAKE_SOURCE_DIR}
          --nm ${CMAKE_NM} ${_sym_args})

# 2. One member prefix per struct, shared by no other struct.
add_test(NAME check_member_prefixes
  COMMAND ${KITE_PYTHON} ${_checks}/check_member_prefixes.py --root ${CMAKE_SOURCE_DIR})

# 4. No strongly connected set of files (includes, headers, calls between objects).
add_test(NAME check_no_cycles
  COMMAND ${KITE_PYTHON} ${_checks}/check_no_cycles.py --root ${CMAKE_SOURCE_DIR}
          --nm ${CMAKE_NM} ${_graph_args})

set(_check_tests check_symbols check_member_prefixes check_no_cycles)

# 3. Each library links alone as a shared library with -Wl,--no-undefined against exactly the
# libraries its CMakeLists.txt names (each of those as such a shared library too, so what only
# a dependency's dependency provides stays undefined: ld does not search DT_NEEDED of DT_NEEDED)
# plus the system libraries it names. Built from the position-independent copies that
# libkite.so is made of (the install block), so a sanitizer or KITE_INSTALL=OFF build, which has
# none, does not run it. The shared libraries are not built by default: the test builds them.
if(TARGET kite_base_pic)
  set(_alone_targets "")
  foreach(_lib IN LISTS _kite_libs)
    set(_objs $<TARGET_OBJECTS:${_lib}_pic>)
    get_target_property(_srcs ${_lib} SOURCES)
    foreach(_s IN LISTS _srcs)
      if(_s MATCHES "^\\$<TARGET_OBJECTS:(.+)>$")
        list(APPEND _objs $<TARGET_OBJECTS:${CMAKE_MATCH_1}_pic>)
      endif()
    endforeach()
    add_library(${_lib}_alone SHARED EXCLUDE_FROM_ALL ${_objs})
    set_target_properties(${_lib}_alone PROPERTIES
      LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/link_alone)
    target_link_options(${_lib}_alone PRIVATE -Wl,--no-undefined)
    get_target_property(_deps ${_lib} LINK_LIBRARIES)
    foreach(_d IN LISTS _deps)
      if(_d IN_LIST _kite_libs)
        target_link_libraries(${_lib}_alone PRIVATE ${_d}_alone)
      elseif(_d)
        target_link_libraries(${_lib}_alone PRIVATE ${_d})
      endif()
    endforeach()
    list(APPEND _alone_targets ${_lib}_alone)
  endforeach()
  add_test(NAME check_link_alone
    COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${CMAKE_BINARY_DIR} "-DTARGETS=${_alone_targets}"
            -P ${_checks}/check_link_alone.cmake)
  list(APPEND _check_tests check_link_alone)
endif()

set_tests_properties(${_check_tests} PROPERTIES LABELS checks TIMEOUT 120)
