# The peer benchmark's C harness (bench/bench_peers.c; bench/peers.py drives it): kite's
# kernels, XGBoost's C API (dlopen'ed: Debian's 1.7.4 and the venv's 3.4) and a TL2cgen
# predictor. Built in every build (not only KITE_BUILD_BENCH) because ctest bench_peers_smoke
# runs it. Included from tests/tests.cmake and bench/bench.cmake, hence the guard.
if(NOT TARGET kite_bench_peers)
  find_package(OpenMP REQUIRED COMPONENTS C)
  find_library(KITE_XGBOOST_LIB xgboost REQUIRED)
  find_path(KITE_XGBOOST_INCLUDE xgboost/c_api.h REQUIRED)
  add_executable(kite_bench_peers bench/bench_peers.c)
  # Only the header's declarations are used: libxgboost is opened at run time.
  target_include_directories(kite_bench_peers PRIVATE ${KITE_XGBOOST_INCLUDE})
  target_link_libraries(kite_bench_peers PRIVATE kite::kite OpenMP::OpenMP_C ${CMAKE_DL_LIBS})
  kite_target_defaults(kite_bench_peers)
endif()
