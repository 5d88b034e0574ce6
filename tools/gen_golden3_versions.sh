#!/usr/bin/env bash
# The version-behaviour golden cases (tests/golden/xgb3/v<version>/): the same small set saved by
# each XGBoost version whose behaviour or layout differs (invalid categories before/after
# 1.7.3, list intercepts from 2.0/3.1/3.2, the logistic base_score clamp from 3.2, dart's
# weight_drop beside the model in 3.3 and inside it in 3.4). Each version runs in a throwaway
# venv in the cache; this is a generator, run by hand, never by the tests (which read the
# checked-in files). Usage: tools/gen_golden3_versions.sh [VERSION...]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${KITE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kite}"
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(1.7.2 2.1.4 3.1.3 3.2.0 3.3.0 3.4.1)
for v in "${versions[@]}"; do
  case "$v" in
    1.*|2.0.*) base="$HOME/.pyenv/versions/3.11.7/bin/python3"; extra=("numpy<2" "pandas<2.2" "scipy<1.14") ;;
    *) base="$HOME/.pyenv/versions/3.12.1/bin/python3"; extra=("numpy<2.4" "pandas<3" scipy) ;;
  esac
  venv="$cache/xgb-$v"
  if [ ! -x "$venv/bin/python" ]; then
    "$base" -m venv "$venv"
    "$venv/bin/pip" install -q "xgboost==$v" "${extra[@]}"
  fi
  "$venv/bin/python" "$root/tools/gen_golden3.py" --set versions --out "$root/tests/golden/xgb3/v$v"
done
