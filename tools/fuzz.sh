#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers with libFuzzer (clang), ASan+UBSan on.
#   tools/fuzz.sh [SECONDS_PER_TARGET]     default 60; not part of the default test run
# Seeds: the golden models and the bundled CSVs. Crashes are written to build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
command -v clang >/dev/null || { sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd=sudo; $sudo_cmd apt-get install -y -qq clang >&2; }
mkdir -p build-fuzz/corpus_model build-fuzz/corpus_csv
cp tests/golden/*.json tests/golden/*.ubj build-fuzz/corpus_model/ 2>/dev/null || true
head -c 4000 data/titanic_features.csv > build-fuzz/corpus_csv/titanic.csv
head -c 4000 data/AirQualityUCI.csv > build-fuzz/corpus_csv/air.csv
flags="-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -Ikernels -Iloaders"
kernels="kernels/kite_error.c kernels/model.c kernels/forest.c kernels/perfect.c kernels/traverse_scalar.c kernels/traverse_row.c kernels/dispatch.c"
clang $flags tests/fuzz/fuzz_model.c $kernels loaders/ubjson.c loaders/xgb_model.c \
  $(pkg-config --cflags --libs libcjson libxxhash) -lm -lpthread -o build-fuzz/fuzz_model
clang $flags tests/fuzz/fuzz_csv.c kernels/kite_error.c loaders/csv.c loaders/num_parse.c -lm -lpthread \
  -o build-fuzz/fuzz_csv
# --- http: the /predict body parser (needs build/ for the libraries it links) ---
mkdir -p build-fuzz/corpus_http
printf '\x00{"features":[3,0,22,1,0,7.25]}' > build-fuzz/corpus_http/features.bin
printf '\x01{"rows":[{"Pclass":3,"Sex":"male","Age":null,"SibSp":1,"Parch":0,"Fare":7.25}],"key":"a"}' > build-fuzz/corpus_http/raw.bin
printf '\x02Pclass,Sex,Age,SibSp,Parch,Fare\n3,0,"22",1,0,7.25\n' > build-fuzz/corpus_http/csv.bin
[ -f build/libkite_features.a ] || tools/setup.sh build
clang $flags -Iengine tests/fuzz/fuzz_http_predict.c engine/http_predict.c engine/http_json.c \
  engine/http_conn.c engine/http_model.c build/libkite_features.a build/libkite_loaders.a \
  build/libkite_kernels.a $(pkg-config --cflags --libs libcjson libxxhash) -lm -lpthread \
  -o build-fuzz/fuzz_http_predict
# --- end http ---
# --- feature specs (then events through the state), reference profiles, serve configs ---
mkdir -p build-fuzz/corpus_spec build-fuzz/corpus_profile build-fuzz/corpus_config
cp models/*.spec.json build-fuzz/corpus_spec/
printf '{"bins": 10, "fine_bins": 256, "kite_profile": 1, "rows": 2, "columns": []}' \
  > build-fuzz/corpus_profile/empty.json
[ -x build/kite ] && build/kite profile --model models/titanic.json --spec models/titanic.spec.json \
  --input data/titanic.csv --label Survived --output build-fuzz/corpus_profile/titanic.json 2>/dev/null || true
printf '{"brokers":"127.0.0.1:9092","topics":"events","model":"m.json","batch_size":64,"exit_on_eof":true,"kafka":{"linger.ms":"2"},"drift_windows":"sliding:1000:100,daily"}' \
  > build-fuzz/corpus_config/a.json
clang $flags -Iengine tests/fuzz/fuzz_spec.c loaders/feature_spec.c loaders/feature_spec_features.c \
  loaders/event_time.c engine/features.c engine/features_eval.c kernels/kite_error.c kernels/model.c \
  $(pkg-config --cflags --libs libcjson libxxhash) -lm -lpthread -o build-fuzz/fuzz_spec
clang $flags -Iengine tests/fuzz/fuzz_profile.c loaders/profile.c loaders/profile_build.c engine/drift.c \
  engine/drift_check.c engine/drift_config.c engine/drift_labels.c engine/drift_quality.c \
  engine/drift_stats.c engine/drift_metrics.c engine/prom.c kernels/binning_scalar.c \
  kernels/binning_dispatch.c kernels/kite_error.c $(pkg-config --cflags --libs libcjson libxxhash) \
  -lm -lpthread -o build-fuzz/fuzz_profile
clang $flags -Iengine tests/fuzz/fuzz_config.c engine/config.c kernels/kite_error.c \
  $(pkg-config --cflags --libs libcjson) -lm -o build-fuzz/fuzz_config
# --- numbers (issue 13): the event parser against cJSON, differences abort ---
mkdir -p build-fuzz/corpus_event
printf '{"PassengerId":1,"Survived":0,"Pclass":3,"Name":"Braund, Mr. Owen Harris","Sex":"male","Age":22,"Fare":7.25,"Cabin":null}' \
  > build-fuzz/corpus_event/titanic.json
printf '{"a\\u00e9":"x\\uD83D\\uDE00","n":[1,{"b":-0.5e-3}],"t":true}' > build-fuzz/corpus_event/escapes.json
clang $flags -Iengine tests/fuzz/fuzz_event_json.c engine/event_json.c loaders/num_parse.c \
  $(pkg-config --cflags --libs libcjson) -lm -lpthread -o build-fuzz/fuzz_event_json
# --- end numbers ---
cd build-fuzz
./fuzz_event_json -max_total_time="$secs" -max_len=4096 corpus_event
./fuzz_spec -max_total_time="$secs" -max_len=16384 -rss_limit_mb=2048 corpus_spec
./fuzz_profile -max_total_time="$secs" -max_len=32768 -rss_limit_mb=2048 corpus_profile
./fuzz_config -max_total_time="$secs" -max_len=4096 corpus_config
./fuzz_model -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 corpus_model
./fuzz_csv -max_total_time="$secs" -max_len=8192 corpus_csv
(cd .. && build-fuzz/fuzz_http_predict -max_total_time="$secs" -max_len=4096 build-fuzz/corpus_http)
echo "fuzz: no crash in ${secs}s per target"
