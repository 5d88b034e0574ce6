# Google Benchmark harness (C++17, bench/ only): kite's kernels beside XGBoost's predictor.
# Included from the top-level CMakeLists.txt when KITE_BUILD_BENCH=ON. The models are trained
# by bench/train_models.py (python3-xgboost) into the build tree the first time the bench is
# built, so nothing large is committed.
find_package(benchmark REQUIRED)
find_library(KITE_XGBOOST_LIB xgboost REQUIRED)
find_path(KITE_XGBOOST_INCLUDE xgboost/c_api.h REQUIRED)

set(KITE_BENCH_MODELS ${CMAKE_BINARY_DIR}/bench_models)
add_custom_command(
  OUTPUT ${KITE_BENCH_MODELS}/rows.csv ${KITE_BENCH_MODELS}/d6_t500.json
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/bench/train_models.py ${KITE_BENCH_MODELS}
  DEPENDS ${CMAKE_SOURCE_DIR}/bench/train_models.py
  COMMENT "Training benchmark models (bench/train_models.py, about a minute the first time)")
add_custom_target(kite_bench_models DEPENDS ${KITE_BENCH_MODELS}/rows.csv
                                            ${KITE_BENCH_MODELS}/d6_t500.json)

add_executable(kite_bench bench/bench_kernels.cc)
set_target_properties(kite_bench PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON)
target_include_directories(kite_bench PRIVATE ${KITE_XGBOOST_INCLUDE})
target_compile_options(kite_bench PRIVATE -Wall -Wextra -Werror)
target_compile_definitions(kite_bench PRIVATE KITE_BENCH_DEFAULT_MODELS="${KITE_BENCH_MODELS}")
target_link_libraries(kite_bench PRIVATE kite::kite benchmark::benchmark ${KITE_XGBOOST_LIB})
add_dependencies(kite_bench kite_bench_models)

# --- drift --- binning kernel, histogram update, monitor observe per feature value, one check
add_executable(bench_drift bench/bench_drift.cc)
set_target_properties(bench_drift PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON)
target_include_directories(bench_drift PRIVATE ${CMAKE_SOURCE_DIR}/engine/drift)
target_compile_options(bench_drift PRIVATE -Wall -Wextra -Werror)
target_link_libraries(bench_drift PRIVATE kite::kite benchmark::benchmark)
