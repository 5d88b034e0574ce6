#!/usr/bin/env bash
# Puts the pinned Apache Kafka broker (tools/kafka/pom.xml) and its runtime jars in a cache
# outside the repo, once, and prints the jar directory on stdout.
#   tools/kafka/fetch.sh     ensure ${KITE_CACHE:-~/.cache/kite}/kafka-<version>/libs exists
# Maven resolves the jars from Maven Central (into ~/.m2, then copied); nothing here runs at
# test time once the directory is complete.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
cache="${KITE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kite}"
dir="$cache/kafka-$version"
if [ ! -f "$dir/.complete" ]; then
  command -v mvn >/dev/null || { echo "kite kafka: mvn not found (tools/setup.sh installs maven)" >&2; exit 1; }
  echo "kite kafka: fetching Apache Kafka $version into $dir/libs" >&2
  rm -rf "$dir"
  mkdir -p "$dir"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$dir/libs" >&2
  ls "$dir/libs"/kafka_2.13-"$version".jar >/dev/null
  touch "$dir/.complete"
fi
echo "$dir/libs"
