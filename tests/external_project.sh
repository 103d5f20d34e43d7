#!/usr/bin/env bash
# external_project.sh BUILD_DIR EXAMPLES_DIR - installs the build into a scratch
# prefix, builds examples/ against it as a separate CMake project
# (find_package(inas)), runs its programs on real inputs made with the installed
# CLI (a model exported from a random-weight supernet of examples/space-small.yaml,
# a tiny PNG, a target at resolution 64 and the LUT probed for it), checks their
# outputs and exit codes, and builds one example through pkg-config.
set -euo pipefail
build=$1 examples=$(cd "$2" && pwd)
cmake=${CMAKE:-cmake} cc=${CC:-cc}
work=$(mktemp -d "${TMPDIR:-/tmp}/inas-extproj-XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
"$cmake" --install "$build" --prefix "$work/prefix" >/dev/null
"$cmake" -S "$examples" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
"$cmake" --build "$work/build" -j2 >/dev/null
"$work/build/version"

ex=$work/build inas=$work/prefix/bin/inas
space=$examples/space-small.yaml arch=$examples/arch-small-example.yaml
fail() { echo "external project: $*" >&2; exit 1; }
# expect CODE CMD... - runs CMD (stdout to $work/out, stderr to $work/err) and
# checks its exit status.
expect() {
    local want=$1 got=0
    shift
    "$@" >"$work/out" 2>"$work/err" || got=$?
    [ "$got" = "$want" ] || { cat "$work/out" "$work/err" >&2; fail "$* exited $got, expected $want"; }
}

# Inputs: a model of the small space (random weights), a 24x16 RGB PNG, and a
# target at resolution 64 with its LUT probed on this machine's CPU device.
"$inas" bench model --space "$space" --arch "$arch" --size 64 --runs 1 --warmup 0 --save "$work/model" >/dev/null
base64 -d >"$work/in.png" <<'PNG'
iVBORw0KGgoAAAANSUhEUgAAABgAAAAQCAIAAACDRijCAAACxklEQVR42g3MkRKFQBiA0eUoiJvFD5s4iOLlKIibMGziIIqXo4W4WfyxiYOleB/h3vMARylFosgUuQJFqagUjcIoWkWvGBSTYlGsil1hFYfiVFwKUTyKV/EplEpJUrKUPIWUMqVKaVJMSpvSpwwpU8qSsqbsKTblSDlTrhRJeVLelC/9R5pEk2lyDZpSU2kajdG0ml4zaCbNolk1u8ZqDs2puTSieTSv5tP/qCApyAryAgrKgqqgKTAFbUFfMBRMBUvBWrAX2IKj4Cy4CqTgKXgLvuIf1SQ1WU1eQ01ZU9U0NaaWtpa+lqGWqZallrWWvRZbc9ScNVeN1Dw1b81X/yNDYsgMuQFDaagMjcEYaY30RgYjk5HFyGpkN2INh+E0XAYxPIbX8Jl/1JF0ZB15Bx1lR9XRdJhO2k76ToZOpk6WTtZO9k5sx9Fxdlwd0vF0vB1f949GkpFsJB9hpBypRpoRM0o7Sj/KMMo0yjLKOso+ih05Rs6Ra0RGnpF35Bv/0Uwyk83kM8yUM9VMM2NmaWfpZxlmmWZZZlln2WexM8fMOXPNyMwz88588z/aSDayjXyDjXKj2mg2zCbtJv0mwybTJssm6yb7Jnbj2Dg3rg3ZeDbejW/7R5bEkllyC5bSUlkai7HSWumtDFYmK4uV1cpuxVoOy2m5LGJ5LK/ls//IkTgyR+7AUToqR+MwTlonvZPByeRkcbI62Z1Yx+E4HZdDHI/jdXzuH3kST+bJPXhKT+VpPMbTenrP4Jk8i2f17B7rOTyn5/KI5/G8ns//o5vkJrvJb7gpb6qb5sbctDf9zXAz3Sw3681+Y2+Om/PmupGb5+a9+e5/FEgCWSAPECgDVaAJmEAb6ANDYAosgTWwB2zgCJyBKyCBJ/AGvvCPIkkki+QRImWkijQRE2kjfWSITJElskb2iI0ckTNyRSTyRN7IF/kB6kLEkEbVMgYAAAAASUVORK5CYII=
PNG
cat >"$work/target.yaml" <<EOF
name: ext-test
opencl: {type: cpu}
probe: {resolution: 64, batch: 1, warmup: 1, runs: 3, statistic: median}
lut: $work/ext-test.lut
space: $space
EOF
expect 0 "$inas" lut probe --target "$work/target.yaml"

# infer: the saliency map as an 8-bit gray PNG of the image's size (24x16)
expect 0 "$ex/infer" "$work/model" "$work/in.png" "$work/map.png"
grep -q "24x16" "$work/out" || fail "infer: unexpected output: $(cat "$work/out")"
# IHDR: width 24, height 16, bit depth 8, colour type 0 (gray)
[ "$(od -An -tx1 -j12 -N14 "$work/map.png" | tr -d ' \n')" = 4948445200000018000000100800 ] ||
    fail "infer: map.png is not a 24x16 8-bit gray PNG"
expect 2 "$ex/infer" "$work/model" "$work/in.png"
expect 1 "$ex/infer" "$work/no-model" "$work/in.png" "$work/map2.png"
grep -q "no-model" "$work/err" || fail "infer: the error does not name the model: $(cat "$work/err")"
[ ! -e "$work/map2.png" ] || fail "infer wrote a map after failing"

# latency: the same prediction as `inas lut predict`, at the LUT's resolution
expect 0 "$ex/latency" "$work/ext-test.lut" "$arch" "$space"
got=$(sed -n 's/^predicted_ms: //p' "$work/out")
want=$("$inas" lut predict --lut "$work/ext-test.lut" --arch "$arch" --space "$space" --resolution 64 |
       sed -n 's/^predicted_ms: //p')
[ -n "$got" ] && [ "$got" = "$want" ] || fail "latency: predicted_ms '$got', inas lut predict says '$want'"
grep -q "^resolution: 64$" "$work/out" || fail "latency: not at the LUT's resolution: $(cat "$work/out")"
expect 2 "$ex/latency" "$work/ext-test.lut"
expect 1 "$ex/latency" "$work/ext-test.lut" "$arch"   # the LUT is of the small space, not the default one
grep -q "another search space" "$work/err" || fail "latency: unexpected error: $(cat "$work/err")"

# search: LGS with the proxy quality prints a front of several architectures,
# fastest first. It runs on the committed host LUT of the built-in space
# (stable latencies 31-90 ms), not on the quick 3-run probe above, whose
# 1-5 ms timings can order the smallest and largest networks either way on a
# loaded machine.
cat >"$work/host-target.yaml" <<EOT
name: ext-host
opencl: {type: cpu}
probe: {resolution: 320, batch: 1, warmup: 1, runs: 3, statistic: median}
lut: $(cd "$examples/.." && pwd)/lut/host-cpu.lut
EOT
expect 0 "$ex/search" "$work/host-target.yaml"
grep -q "^front:$" "$work/out" || fail "search: no front: $(cat "$work/out")"
n=$(grep -c "^  - {latency_ms: " "$work/out" || true)
[ "$n" -ge 2 ] || fail "search: a front of $n architectures: $(cat "$work/out")"
sed -n 's/^  - {latency_ms: \([0-9.]*\),.*/\1/p' "$work/out" | sort -c -g || fail "search: front not sorted by latency"
expect 2 "$ex/search"
expect 1 "$ex/search" "$work/no-target.yaml"
grep -q "no-target.yaml" "$work/err" || fail "search: the error does not name the target: $(cat "$work/err")"
echo "examples: infer, latency, search: ok"

libdir=$(ls -d "$work"/prefix/lib*/pkgconfig | head -1)
export PKG_CONFIG_PATH="$libdir"
# shellcheck disable=SC2046
"$cc" -std=c11 -o "$work/version-pc" "$examples/version.c" $(pkg-config --cflags --libs inas)
LD_LIBRARY_PATH="$(dirname "$libdir")" "$work/version-pc"
echo "external project: ok"
