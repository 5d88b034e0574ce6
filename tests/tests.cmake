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
add_test(NAME features_pandas_airquality
  COMMAND ${KITE_PYTHON} ${CMAKE_SOURCE_DIR}/tests/features_pandas.py --kite $<TARGET_FILE:kite>
          --spec ${CMAKE_SOURCE_DIR}/models/airquality.spec.json
          --data ${CMAKE_SOURCE_DIR}/data/AirQualityUCI.csv)
add_test(NAME features_cli
  COMMAND ${KITE_PYTHON} ${CMAKE_SOURCE_DIR}/tests/features_cli.py --kite $<TARGET_FILE:kite>
          --root ${CMAKE_SOURCE_DIR})
# --- end features ---

# --- http: kite serve --http over real HTTP (127.0.0.1, ephemeral ports) ---
kite_c_test(test_http_predict)
target_include_directories(test_http_predict PRIVATE engine)
set_tests_properties(test_http_predict PROPERTIES LABELS "http;tsan")
add_test(NAME http_api
  COMMAND ${KITE_PYTHON} ${CMAKE_SOURCE_DIR}/tests/http_api.py --kite $<TARGET_FILE:kite>
          --root ${CMAKE_SOURCE_DIR})
set_tests_properties(http_api PROPERTIES LABELS "http;tsan" TIMEOUT 120)
# HAProxy in front of two kite processes; each restarted with SIGTERM under load: 0 failures.
add_test(NAME http_lb
  COMMAND ${KITE_PYTHON} ${CMAKE_SOURCE_DIR}/tests/http_lb.py --kite $<TARGET_FILE:kite>
          --root ${CMAKE_SOURCE_DIR})
set_tests_properties(http_lb PROPERTIES LABELS "http" TIMEOUT 120)
# The HTML form in headless Chromium (DevTools protocol over a pipe).
add_test(NAME http_browser
  COMMAND ${KITE_PYTHON} ${CMAKE_SOURCE_DIR}/tests/http_browser.py --kite $<TARGET_FILE:kite>
          --root ${CMAKE_SOURCE_DIR})
set_tests_properties(http_browser PROPERTIES LABELS "http;browser" TIMEOUT 120)
# --- end http ---
