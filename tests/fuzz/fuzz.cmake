# libFuzzer targets (issue 12). tools/fuzz.sh configures a clang build with -DKITE_FUZZ=ON and
# KITE_SANITIZE="address;undefined;float-cast-overflow;fuzzer-no-link" (coverage for every
# library), then builds these. Each target links the libraries it exercises, so its sources are
# the libraries' own lists, never a copy that can fall behind them.
set(KITE_FUZZ_TARGETS)
function(kite_fuzz_target name)
  add_executable(${name} tests/fuzz/${name}.c)
  target_link_libraries(${name} PRIVATE ${ARGN})
  foreach(_lib IN LISTS ARGN)   # white-box: the private headers of the libraries it links
    if(TARGET ${_lib} AND _lib MATCHES "^kite_")
      get_target_property(_dir ${_lib} SOURCE_DIR)
      target_include_directories(${name} PRIVATE ${_dir})
    endif()
  endforeach()
  kite_target_defaults(${name})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set(KITE_FUZZ_TARGETS ${KITE_FUZZ_TARGETS} ${name} PARENT_SCOPE)
endfunction()
kite_fuzz_target(fuzz_model kite_xgb kite_traverse)
kite_fuzz_target(fuzz_csv kite_csv)
kite_fuzz_target(fuzz_http_predict kite_http)
kite_fuzz_target(fuzz_spec kite_features)
kite_fuzz_target(fuzz_profile kite_drift kite_profile)
kite_fuzz_target(fuzz_config kite_stream)
kite_fuzz_target(fuzz_event_json kite_stream PkgConfig::CJSON)
kite_fuzz_target(fuzz_kafka_event kite_stream kite_features kite_xgb)
add_custom_target(fuzz_all DEPENDS ${KITE_FUZZ_TARGETS})
