# Perf-regression check (perf/): callgrind instruction counts against perf/baseline.txt.
# Labelled no_asan: valgrind cannot run sanitized binaries.
add_executable(perf_kernels perf/perf_kernels.c)
target_include_directories(perf_kernels PRIVATE tests)
target_link_libraries(perf_kernels PRIVATE kite::kite)
kite_target_defaults(perf_kernels)
if(NOT KITE_SANITIZE)
  add_test(NAME perf_check
    COMMAND sh ${CMAKE_SOURCE_DIR}/perf/perf_check.sh $<TARGET_FILE:perf_kernels>)
  # The checker itself must trip: a baseline 5% below today's counts is a 5% "regression".
  add_test(NAME perf_check_trips
    COMMAND sh -c "! sh ${CMAKE_SOURCE_DIR}/perf/perf_check.sh $<TARGET_FILE:perf_kernels> --scale 0.95")
  set_tests_properties(perf_check perf_check_trips PROPERTIES LABELS no_asan)
endif()
