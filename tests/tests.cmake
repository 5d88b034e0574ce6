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

# --- features: feature specs, per-key state, kite featurize / score --spec ---
kite_c_test(test_features)
if(NOT KITE_SANITIZE) # interposes malloc (tests/alloc_count.h), which ASan owns
  kite_c_test(test_features_alloc)
  set_tests_properties(test_features_alloc PROPERTIES LABELS no_asan)
endif()
add_test(NAME features_pandas_airquality
  COMMAND ${KITE_PYTHON} ${CMAKE_SOURCE_DIR}/tests/features_pandas.py --kite $<TARGET_FILE:kite>
          --spec ${CMAKE_SOURCE_DIR}/models/airquality.spec.json
          --data ${CMAKE_SOURCE_DIR}/data/AirQualityUCI.csv)
add_test(NAME features_cli
  COMMAND ${KITE_PYTHON} ${CMAKE_SOURCE_DIR}/tests/features_cli.py --kite $<TARGET_FILE:kite>
          --root ${CMAKE_SOURCE_DIR})
# --- end features ---
