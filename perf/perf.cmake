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
    COMMAND sh ${CMAKE_SOURCE_DIR}/perf/expect_regression.sh $<TARGET_FILE:perf_kernels> --scale 0.95)
  set_tests_properties(perf_check perf_check_trips PROPERTIES LABELS no_asan)
endif()

# A deliberately slowed kernel: the same kernel sources built at -O0 (as a botched build flag or
# an accidental de-optimisation would), linked into a second perf_kernels. The check must fail
# on it against the committed baseline (perf_check_slowed_kernel), proving it catches a slower
# kernel and not only a doctored baseline. x86-64 only: the baseline holds scalar and AVX2.
if(NOT KITE_SANITIZE AND CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  add_executable(perf_kernels_slowed EXCLUDE_FROM_ALL perf/perf_kernels.c ${KITE_KERNEL_SOURCES}
    kernels/traverse_avx2.c kernels/traverse_avx512.c)
  set_source_files_properties(kernels/traverse_avx2.c
    PROPERTIES COMPILE_OPTIONS "-mavx2")
  set_source_files_properties(kernels/traverse_avx512.c
    PROPERTIES COMPILE_OPTIONS "-mavx512f;-mavx512dq;-mavx512bw;-mavx512vl")
  target_include_directories(perf_kernels_slowed PRIVATE kernels tests)
  target_compile_definitions(perf_kernels_slowed PRIVATE KITE_HAVE_AVX2=1 KITE_HAVE_AVX512=1)
  target_link_libraries(perf_kernels_slowed PRIVATE m Threads::Threads)
  kite_target_defaults(perf_kernels_slowed)
  target_compile_options(perf_kernels_slowed PRIVATE -O0)
  add_dependencies(perf_kernels perf_kernels_slowed)
  add_test(NAME perf_check_slowed_kernel
    COMMAND sh ${CMAKE_SOURCE_DIR}/perf/expect_regression.sh $<TARGET_FILE:perf_kernels_slowed>)
  set_tests_properties(perf_check_slowed_kernel PROPERTIES LABELS no_asan)
endif()
