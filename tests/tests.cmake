# ctest registration (included from the top-level CMakeLists.txt).
set(KITE_PYTHON /usr/bin/python3)

function(kite_c_test name)
  add_executable(${name} tests/${name}.c)
  target_link_libraries(${name} PRIVATE kite::kite)
  kite_target_defaults(${name})
  add_test(NAME ${name} COMMAND ${name} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
endfunction()

kite_c_test(test_csv)
kite_c_test(test_ubjson)
kite_c_test(test_golden_lib)
kite_c_test(test_prom)

# promtool (Debian's prometheus package) must accept what the writer produces.
add_test(NAME prom_promtool
  COMMAND sh -c "$<TARGET_FILE:test_prom> ${CMAKE_BINARY_DIR}/prom_sample.txt >/dev/null && promtool check metrics < ${CMAKE_BINARY_DIR}/prom_sample.txt")

add_test(NAME golden_cli
  COMMAND ${KITE_PYTHON} ${CMAKE_SOURCE_DIR}/tests/golden_check.py --kite $<TARGET_FILE:kite>
          --golden ${CMAKE_SOURCE_DIR}/tests/golden)
add_test(NAME malformed_models
  COMMAND ${KITE_PYTHON} ${CMAKE_SOURCE_DIR}/tests/malformed_models.py --kite $<TARGET_FILE:kite>
          --golden ${CMAKE_SOURCE_DIR}/tests/golden)
add_test(NAME cli_usage
  COMMAND ${KITE_PYTHON} ${CMAKE_SOURCE_DIR}/tests/cli_usage.py --kite $<TARGET_FILE:kite>
          --root ${CMAKE_SOURCE_DIR})

# --- stream (issue 5) ---
kite_c_test(test_ring)
set_tests_properties(test_ring PROPERTIES LABELS tsan)
add_executable(test_stream tests/test_stream.c)
target_link_libraries(test_stream PRIVATE kite::kite)
kite_target_defaults(test_stream)
add_test(NAME stream_basic COMMAND test_stream basic WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
add_test(NAME stream_faults COMMAND test_stream faults WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(stream_basic stream_faults PROPERTIES LABELS tsan TIMEOUT 120)
