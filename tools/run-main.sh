#!/usr/bin/env bash
# The main job: set up (install, configure, build) and run kite on the bundled data and model.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh build
echo "== kite: scoring the bundled Titanic passengers with the bundled model =="
build/kite info | sed -n '1p;5p'
build/kite score --model models/titanic.json --input data/titanic_features.csv \
  --label Survived --output build/titanic_predictions.csv
echo "predictions written to build/titanic_predictions.csv ($(($(wc -l < build/titanic_predictions.csv) - 1)) rows)"
