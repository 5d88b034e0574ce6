# Perf-regression check (perf/): callgrind instruction counts against perf/baseline.txt.
# Labelled no_asan: valgrind cannot run sanitized binaries.
add_executable(perf_kernels perf/perf_kernels.c)
target_include_directories(perf_kernels PRIVATE tests/support)
target_link_libraries(perf_kernels PRIVATE kite_white_box)
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
    kernels/traverse/traverse_avx2.c kernels/traverse/traverse_avx512.c)
  set_source_files_properties(kernels/traverse/traverse_avx2.c
    PROPERTIES COMPILE_OPTIONS "-mavx2")
  set_source_files_properties(kernels/traverse/traverse_avx512.c
    PROPERTIES COMPILE_OPTIONS "-mavx512f;-mavx512dq;-mavx512bw;-mavx512vl")
  target_include_directories(perf_kernels_slowed PRIVATE kernels/base/include
    kernels/forest/include kernels/traverse/include kernels/traverse tests/support)
  target_compile_definitions(perf_kernels_slowed PRIVATE KITE_HAVE_AVX2=1 KITE_HAVE_AVX512=1)
  target_link_libraries(perf_kernels_slowed PRIVATE m Threads::Threads)
  kite_target_defaults(perf_kernels_slowed)
  target_compile_options(perf_kernels_slowed PRIVATE -O0)
  add_dependencies(perf_kernels perf_kernels_slowed)
  add_test(NAME perf_check_slowed_kernel
    COMMAND sh ${CMAKE_SOURCE_DIR}/perf/expect_regression.sh $<TARGET_FILE:perf_kernels_slowed>)
  set_tests_properties(perf_check_slowed_kernel PROPERTIES LABELS no_asan)
endif()

# --- perf gate (issue 13): a whole kite CLI whose kernels are built at -O0, for the test that
# `kite bench --baseline` fails on a slower build (tests/e2e/bench_gate.py). Its kernel library is
# kite_kernels' own source list (ISA object libraries included, each source with its flags)
# linked whole ahead of kite::kite, so every kernel symbol resolves to the slowed copy and
# nothing of kite_kernels.a is pulled in beside it. Built with perf_kernels (tests on). ---
if(NOT KITE_SANITIZE)
  set(_slow_src "")
  set(_slow_inc "")
  foreach(_lib kite_base kite_forest kite_traverse)
    get_target_property(_dir ${_lib} SOURCE_DIR)
    list(APPEND _slow_inc ${_dir} ${_dir}/include)
    get_target_property(_kernel_items ${_lib} SOURCES)
    foreach(_item IN LISTS _kernel_items)
      if(_item MATCHES "^\\$<TARGET_OBJECTS:(.+)>$")
        set(_obj ${CMAKE_MATCH_1})
        get_target_property(_obj_src ${_obj} SOURCES)
        get_target_property(_obj_opts ${_obj} COMPILE_OPTIONS)
        set_source_files_properties(${_dir}/${_obj_src} PROPERTIES COMPILE_OPTIONS "${_obj_opts}")
        list(APPEND _slow_src ${_dir}/${_obj_src})
      else()
        list(APPEND _slow_src ${_dir}/${_item})
      endif()
    endforeach()
  endforeach()
  add_library(kite_kernels_slowed STATIC EXCLUDE_FROM_ALL ${_slow_src})
  target_include_directories(kite_kernels_slowed PUBLIC ${_slow_inc})
  get_target_property(_kernel_defs kite_traverse COMPILE_DEFINITIONS)
  if(_kernel_defs)
    target_compile_definitions(kite_kernels_slowed PRIVATE ${_kernel_defs})
  endif()
  target_link_libraries(kite_kernels_slowed PUBLIC m Threads::Threads)
  kite_target_defaults(kite_kernels_slowed)
  target_compile_options(kite_kernels_slowed PRIVATE -O0)
  get_target_property(_kite_src kite SOURCES)
  add_executable(kite_slowed EXCLUDE_FROM_ALL ${_kite_src})
  target_include_directories(kite_slowed PRIVATE tools)
  target_compile_definitions(kite_slowed PRIVATE KITE_BUILD_TYPE="${CMAKE_BUILD_TYPE}, kernels at -O0")
  target_link_libraries(kite_slowed PRIVATE -Wl,--whole-archive kite_kernels_slowed
                        -Wl,--no-whole-archive kite::kite)
  kite_target_defaults(kite_slowed)
  add_dependencies(perf_kernels kite_slowed)
endif()
# --- end perf gate ---
