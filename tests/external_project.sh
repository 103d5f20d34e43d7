#!/usr/bin/env bash
# external_project.sh BUILD_DIR EXAMPLES_DIR - installs the build into a scratch
# prefix, builds examples/ against it as a separate CMake project
# (find_package(inas)), runs its programs, and builds one example through pkg-config.
set -euo pipefail
build=$1 examples=$2
cmake=${CMAKE:-cmake} cc=${CC:-cc}
work=$(mktemp -d "${TMPDIR:-/tmp}/inas-extproj-XXXXXX")
trap 'rm -rf "$work"' EXIT
"$cmake" --install "$build" --prefix "$work/prefix" >/dev/null
"$cmake" -S "$examples" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
"$cmake" --build "$work/build" -j2 >/dev/null
"$work/build/version"
libdir=$(ls -d "$work"/prefix/lib*/pkgconfig | head -1)
export PKG_CONFIG_PATH="$libdir"
# shellcheck disable=SC2046
"$cc" -std=c11 -o "$work/version-pc" "$examples/version.c" $(pkg-config --cflags --libs inas)
LD_LIBRARY_PATH="$(dirname "$libdir")" "$work/version-pc"
echo "external project: ok"
