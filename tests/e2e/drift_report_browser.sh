#!/usr/bin/env bash
# Renders a drift HTML report in headless Chromium: the page must parse (its DOM, dumped by
# Chromium, holds the SVG charts), log no console or resource-load errors (the report has no
# scripts or external assets), and produce a screenshot.
#   tests/e2e/drift_report_browser.sh KITE_BINARY SOURCE_DIR WORK_DIR
set -euo pipefail
kite=$1 src=$2 work=$3
mkdir -p "$work"
"$kite" profile --model "$src/models/titanic.json" --input "$src/data/titanic_features.csv" \
  --label Survived --output "$work/titanic_ref.json"
# Current data: the titanic rows with Fare tripled for the second half, as a visible drift.
awk -F, 'BEGIN{OFS=","} NR==1{print; next} {if (NR > 446) $6 = $6 * 3; print}' \
  "$src/data/titanic_features.csv" > "$work/titanic_current.csv"
"$kite" drift --reference "$work/titanic_ref.json" --input "$work/titanic_current.csv" \
  --model "$src/models/titanic.json" --label Survived --window sliding:200:20 \
  --report-window sliding_200 --report "$work/report.html" -q
profile_dir=$(mktemp -d)
trap 'rm -rf "$profile_dir"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-background-networking
       --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile_dir")
chromium "${flags[@]}" --enable-logging=stderr --v=0 --screenshot="$work/report.png" \
  --window-size=1200,2000 "file://$work/report.html" 2> "$work/chromium.log" >/dev/null
if grep -E "CONSOLE|Failed to load resource|net::ERR" "$work/chromium.log"; then
  echo "drift_report_browser: the page logged errors (above)" >&2
  exit 1
fi
test -s "$work/report.png" || { echo "drift_report_browser: no screenshot" >&2; exit 1; }
chromium "${flags[@]}" --dump-dom "file://$work/report.html" 2>/dev/null > "$work/dom.html"
svgs=$(grep -o "<svg" "$work/dom.html" | wc -l)
polylines=$(grep -o "<polyline" "$work/dom.html" | wc -l)
# 7 histograms (6 features + prediction), the PSI bars, PSI over time, quality over time.
if [ "$svgs" -lt 10 ] || [ "$polylines" -lt 3 ]; then
  echo "drift_report_browser: DOM has $svgs svg and $polylines polyline elements" >&2
  exit 1
fi
echo "drift_report_browser: $svgs charts rendered, screenshot $work/report.png"
