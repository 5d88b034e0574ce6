#!/usr/bin/env bash
# The install a platform team ships: builds the .deb with CPack from this build tree, unpacks it
# into a throwaway root (dpkg -x) and checks, from the root only:
#   - Depends lists the Debian package of every library the binary and libkite.so link (and
#     nothing else); /etc/kite/kite.json is a conffile;
#   - every file is in its standard place (binary, headers, libkite.so, kite.pc, CMake package,
#     man page, systemd unit, default config, models, ops/ when the tree has it);
#   - the installed `kite info` runs;
#   - the unit's ExecStart line (its /usr and /etc paths moved into the root, the config's model
#     paths too, metrics on an ephemeral port) starts, serves /health and /status, and exits 0
#     on SIGTERM;
#   - systemd-analyze verify accepts the unit (when systemd-analyze is installed; if it is not,
#     this says so: the check is then NOT RUN, not passed);
#   - each installed header compiles on its own;
#   - a 20-line C program built against the installed library, found through pkg-config
#     (PKG_CONFIG_LIBDIR / PKG_CONFIG_SYSROOT_DIR in the root), and the same program built with
#     CMake's find_package(kite) / kite::kite, score a Titanic row exactly as the installed
#     `kite score` does.
#   tests/e2e/install_deb.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -uo pipefail
build=$1 src=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
failures=0 checks=0
ok() { checks=$((checks + 1)); echo "ok   $*"; }
bad() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL $*"; }
check() { # check "what" command...
  local what=$1; shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
finish() {
  echo "install_deb: $((checks - failures))/$checks checks passed"
  [ "$failures" -eq 0 ] && [ "$checks" -gt 0 ]
  exit $?
}

# ---- the package -----------------------------------------------------------------------------
if ! cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/pkg" > "$work/cpack.log" 2>&1; then
  tail -20 "$work/cpack.log"
  bad "cpack -G DEB builds the package"
  finish
fi
deb=$(ls "$work"/pkg/kite_*.deb 2>/dev/null | head -1)
check "cpack -G DEB built $deb" test -s "$deb"
root=$work/root
dpkg -x "$deb" "$root"

depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
dep_names=$(echo "$depends" | tr ',' '\n' | sed 's/(.*)//; s/ //g' | sort -u)
multiarch=$(gcc -print-multiarch)
lib=$root/usr/lib/$multiarch
needed=$(for f in "$root/usr/bin/kite" "$lib"/libkite.so.*.*.*; do
           readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; done | sort -u)
linked_pkgs=""
for soname in $needed; do
  path=$(ldconfig -p | awk -v s="$soname" '$1 == s && /x86-64|aarch64|64bit|=>/ {print $NF; exit}')
  # dpkg knows a file by the path its package ships it at: /lib/... for libc6 (usrmerge makes
  # /lib a link to /usr/lib), /usr/lib/... for most others; try the path, its target, and that
  # target without /usr.
  real=$(readlink -f "$path")
  pkg=""
  for p in "$path" "$real" "${real#/usr}"; do
    pkg=$(dpkg -S "$p" 2>/dev/null | head -1 | cut -d: -f1)
    [ -n "$pkg" ] && break
  done
  if [ -z "$pkg" ]; then
    bad "linked $soname: no Debian package owns $path"
    continue
  fi
  linked_pkgs="$linked_pkgs $pkg"
  if echo "$dep_names" | grep -qx "$pkg"; then ok "links $soname ($pkg): in Depends"
  else bad "links $soname ($pkg): missing from Depends"; fi
done
for want in librdkafka1 libcjson1 libxxhash0 libhwloc15 libmicrohttpd12 libc6; do
  check "Depends names $want" grep -qx "$want" <<< "$dep_names"
done
for d in $dep_names; do
  check "Depends $d is linked (no extra dependency)" grep -qw "$d" <<< "$linked_pkgs"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles > "$work/conffiles" 2>/dev/null
check "/etc/kite/kite.json is a conffile" grep -qx /etc/kite/kite.json "$work/conffiles"

# ---- files in their places ---------------------------------------------------------------------
for f in usr/bin/kite usr/include/kite/kite.h usr/include/kite/xgb_model.h usr/include/kite/forest.h \
         "usr/lib/$multiarch/libkite.so" "usr/lib/$multiarch/libkite.so.0" \
         "usr/lib/$multiarch/pkgconfig/kite.pc" "usr/lib/$multiarch/cmake/kite/kiteConfig.cmake" \
         "usr/lib/$multiarch/cmake/kite/kiteTargets.cmake" usr/share/man/man1/kite.1.gz \
         lib/systemd/system/kite.service etc/kite/kite.json usr/share/kite/models/titanic.json \
         usr/share/kite/models/titanic.spec.json; do
  check "installed /$f" test -e "$root/$f"
done
check "the man page has the commands (from kite --help)" \
  sh -c "zcat '$root/usr/share/man/man1/kite.1.gz' | grep -q 'stream Kafka events through the model'"
if [ -d "$src/ops" ]; then
  want=$(cd "$src/ops" && find . -type f | wc -l)
  got=$(cd "$root/usr/share/kite/ops" 2>/dev/null && find . -type f | wc -l)
  check "ops/ installed in /usr/share/kite/ops ($got of $want files)" test "${got:-0}" -eq "$want"
else
  echo "note: this tree has no ops/ directory (dashboards and rules come from their own branch)"
fi

# ---- the installed binary ----------------------------------------------------------------------
info=$("$root/usr/bin/kite" info 2>&1)
rc=$?
echo "$info" | sed 's/^/  kite info: /'
check "installed kite info exits 0 and names its kernel" \
  sh -c "[ $rc -eq 0 ] && echo \"\$1\" | grep -q '^kernel chosen: '" _ "$info"

# ---- the unit's ExecStart ----------------------------------------------------------------------
unit=$root/lib/systemd/system/kite.service
exec_line=$(sed -n 's/^ExecStart=//p' "$unit")
echo "ExecStart=$exec_line"
config_path=$(echo "$exec_line" | sed -n 's/.*--config \([^ ]*\).*/\1/p')
check "ExecStart reads the installed default config ($config_path)" test -f "$root$config_path"
sed -e "s|\"/usr/share/kite/|\"$root/usr/share/kite/|g" \
    -e 's|"metrics_addr": *"[^"]*"|"metrics_addr": "127.0.0.1:0"|' "$root$config_path" > "$work/kite.json"
cmd=${exec_line//\/usr\/bin\/kite/$root/usr/bin/kite}
cmd=${cmd//$config_path/$work/kite.json}
$cmd > "$work/serve.out" 2> "$work/serve.err" &
pid=$!
port=""
for _ in $(seq 1 300); do
  port=$(sed -n 's/.*metrics on .*(port \([0-9]*\)).*/\1/p' "$work/serve.err" | head -1)
  [ -n "$port" ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
if [ -n "$port" ]; then
  health=""
  for _ in $(seq 1 100); do
    health=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")
    [ "$health" = 200 ] && break
    sleep 0.1
  done
  check "ExecStart serves /health (HTTP $health)" test "$health" = 200
  status=$(curl -s "http://127.0.0.1:$port/status")
  check "ExecStart serves the status page" grep -q 'kite serve' <<< "$status"
else
  bad "ExecStart started and printed its metrics port: $(tail -5 "$work/serve.err")"
fi
kill -TERM $pid 2>/dev/null
rc=""
for _ in $(seq 1 600); do
  kill -0 $pid 2>/dev/null || { wait $pid; rc=$?; break; }
  sleep 0.1
done
if [ -z "$rc" ]; then kill -KILL $pid; wait $pid; fi
check "ExecStart exits 0 on SIGTERM (exit ${rc:-none: killed after 60 s})" test "${rc:-1}" = 0

if command -v systemd-analyze > /dev/null; then
  # The unit as installed, its ExecStart moved into the root so the binary it names exists;
  # MANPATH lets the Documentation=man:kite(1) check find the installed page.
  mkdir -p "$work/verify"
  sed "s|^ExecStart=/usr/bin/kite|ExecStart=$root/usr/bin/kite|" "$unit" > "$work/verify/kite.service"
  if MANPATH="$root/usr/share/man" systemd-analyze verify "$work/verify/kite.service" > "$work/verify.log" 2>&1; then
    ok "systemd-analyze verify kite.service"
  else
    cat "$work/verify.log"
    bad "systemd-analyze verify kite.service"
  fi
else
  echo "NOT RUN: systemd-analyze is not installed, so kite.service was NOT verified (this check is not counted as passed)"
fi

# ---- the library: headers, pkg-config, find_package ---------------------------------------------
for h in "$root"/usr/include/kite/*.h; do
  name=$(basename "$h")
  if ! printf '#include <kite/%s>\n' "$name" |
       cc -std=c11 -Wall -Wextra -Werror -fsyntax-only -I"$root/usr/include" -x c - 2> "$work/header.err"; then
    bad "<kite/$name> compiles on its own: $(head -3 "$work/header.err")"
  else
    ok "<kite/$name> compiles on its own"
  fi
done
cat > "$work/score.c" <<'EOF'
/* Scores one row given on the command line with an XGBoost model, through libkite; prints the
 * prediction as kite score does (shortest text that reads back as the same float32). */
#include <kite/kite.h>
#include <math.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    char err[512];
    kite_model model;
    kite_forest forest;
    if (argc < 2 || kite_model_load(argv[1], &model, err, sizeof err) ||
        kite_forest_build(&model, &forest, err, sizeof err)) {
        fprintf(stderr, "score: %s\n", argc < 2 ? "usage: score MODEL VALUE..." : err);
        return 1;
    }
    float row[256], out[64];
    char text[KITE_NUM_FLOAT_CHARS];
    for (int i = 0; i < model.km_num_feature && i < 256; i++)
        row[i] = i + 2 < argc ? kite_num_parse_float(argv[i + 2], NULL) : NAN;
    kite_forest_predict(&forest, row, 1, (size_t)model.km_num_feature, out, 0);
    kite_num_format_float(out[0], text);
    printf("%s\n", text);
    kite_forest_free(&forest);
    kite_model_free(&model);
    return 0;
}
EOF
model=$root/usr/share/kite/models/titanic.json
printf 'Pclass,Sex,Age,SibSp,Parch,Fare\n3,0,22,1,0,7.25\n' > "$work/row.csv"
want=$("$root/usr/bin/kite" score --model "$model" --input "$work/row.csv" --quiet | sed -n 2p)
export PKG_CONFIG_LIBDIR=$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$root
unset PKG_CONFIG_PATH
# Two printed floats that read back as the same float32 (the program prints %.9g, kite score
# the shortest text that round-trips).
same_f32() {
  [ -n "$1" ] && [ -n "$2" ] &&
    /usr/bin/python3 -c 'import struct, sys; f = lambda s: struct.pack("f", float(s)); sys.exit(f(sys.argv[1]) != f(sys.argv[2]))' "$1" "$2"
}
pc_flags=$(pkg-config --cflags --libs kite)
echo "pkg-config --cflags --libs kite: $pc_flags"
check "pkg-config finds kite $(pkg-config --modversion kite) in the root" grep -q -- "-L$lib" <<< "$pc_flags"
if cc -std=c11 -Wall -Wextra -Werror "$work/score.c" $pc_flags -o "$work/score_pc" 2> "$work/cc.err"; then
  ok "the C program builds against the installed library (pkg-config)"
  resolved=$(LD_LIBRARY_PATH=$lib ldd "$work/score_pc" | sed -n 's/.*libkite.so.0 => \([^ ]*\).*/\1/p')
  check "it loads the root's libkite.so.0 ($resolved)" test "$resolved" = "$lib/libkite.so.0"
  got=$(LD_LIBRARY_PATH=$lib "$work/score_pc" "$model" 3 0 22 1 0 7.25)
  check "it scores the row as kite score does ($got vs $want)" same_f32 "$got" "$want"
else
  bad "the C program builds against the installed library: $(head -5 "$work/cc.err")"
fi
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
mkdir -p "$work/consumer"
cp "$work/score.c" "$work/consumer/"
cat > "$work/consumer/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.18)
project(kite_consumer C)
find_package(kite 0.1 REQUIRED)
add_executable(score score.c)
target_link_libraries(score PRIVATE kite::kite)
EOF
if cmake -S "$work/consumer" -B "$work/consumer/build" -DCMAKE_PREFIX_PATH="$root/usr" \
         -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF > "$work/consumer.log" 2>&1 &&
   cmake --build "$work/consumer/build" >> "$work/consumer.log" 2>&1; then
  ok "find_package(kite) + kite::kite builds the program"
  kite_dir=$(sed -n 's/^kite_DIR:PATH=//p' "$work/consumer/build/CMakeCache.txt")
  check "find_package found the root's package ($kite_dir)" test "$kite_dir" = "$lib/cmake/kite"
  got=$(LD_LIBRARY_PATH=$lib "$work/consumer/build/score" "$model" 3 0 22 1 0 7.25)
  check "the CMake-built program scores the row as kite score does ($got vs $want)" same_f32 "$got" "$want"
else
  tail -15 "$work/consumer.log"
  bad "find_package(kite) + kite::kite builds the program"
fi
finish
