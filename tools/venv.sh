#!/usr/bin/env bash
# Creates (once) the project's Python virtual environment for test peers and baselines from
# tools/requirements.txt (exact versions) and prints its python's path on stdout.
#   tools/venv.sh            ensure it exists; print <venv>/bin/python
# The venv lives outside the repo, keyed by the requirements file's hash, so clean clones and
# worktrees share it: ${KITE_CACHE:-$XDG_CACHE_HOME/kite or ~/.cache/kite}/venv-<hash>.
# XGBoost 3.3+ needs Python >= 3.12: KITE_VENV_BASE_PYTHON, else python3.13/python3.12 on PATH,
# else a pyenv 3.12+ interpreter.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
req="$root/tools/requirements.txt"
cache="${KITE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kite}"
hash=$(sha256sum "$req" | cut -c1-12)
venv="$cache/venv-$hash"

if [ ! -f "$venv/.complete" ]; then
  base="${KITE_VENV_BASE_PYTHON:-}"
  if [ -z "$base" ]; then
    for c in python3.13 python3.12 "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3; do
      if command -v "$c" >/dev/null 2>&1 &&
         "$c" -c 'import sys, venv, ssl; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
        base=$(command -v "$c"); break
      fi
    done
  fi
  if [ -z "$base" ]; then
    echo "kite venv: no Python >= 3.12 found (XGBoost 3.4 needs it); set KITE_VENV_BASE_PYTHON" >&2
    exit 1
  fi
  echo "kite venv: creating $venv from $req with $base" >&2
  rm -rf "$venv"
  mkdir -p "$cache"
  "$base" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req" >&2
  touch "$venv/.complete"
fi
echo "$venv/bin/python"
