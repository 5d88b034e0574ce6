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
# TSan cannot see librdkafka's C11 threads and locks unless they go through pthreads.
if(KITE_SANITIZE MATCHES "thread")
  target_sources(test_stream PRIVATE tests/tsan_c11_threads.c)
  target_sources(kite PRIVATE tests/tsan_c11_threads.c)
endif()
kite_target_defaults(test_stream)
add_test(NAME stream_basic COMMAND test_stream basic WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
add_test(NAME stream_faults COMMAND test_stream faults WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
add_test(NAME stream_restart COMMAND test_stream restart $<TARGET_FILE:kite>
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(stream_basic stream_faults stream_restart PROPERTIES LABELS tsan TIMEOUT 120)
if(KITE_SANITIZE MATCHES "thread")
  set_tests_properties(test_ring stream_basic stream_faults stream_restart PROPERTIES ENVIRONMENT
    "TSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/tsan.supp halt_on_error=1 exitcode=66")
endif()
# Live /metrics of kite serve through promtool, then a graceful SIGTERM.
add_test(NAME stream_metrics_promtool
  COMMAND ${KITE_PYTHON} ${CMAKE_SOURCE_DIR}/tests/stream_metrics.py --kite $<TARGET_FILE:kite>
          --root ${CMAKE_SOURCE_DIR})
set_tests_properties(stream_metrics_promtool PROPERTIES TIMEOUT 120)
