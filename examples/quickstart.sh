#!/usr/bin/env bash
# quickstart.sh - from a fresh Debian 12 machine to a working inas: installs the
# missing Debian packages (as root; otherwise says which), configures, builds,
# and runs the main job on the OpenCL device (INAS_DEVICE, default: the first
# GPU, else the PoCL CPU device): list the devices, then build and run a kernel.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash examples/install-deps.sh
build=${INAS_BUILD_DIR:-build}
jobs=$(nproc 2>/dev/null || echo 2)
echo "== configure and build ($build) =="
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DINAS_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "$jobs" >/dev/null
echo "== OpenCL devices =="
"$build/inas" devices
echo "== a small kernel on the selected device =="
"$build/inas" selftest
echo "== done: the CLI is $build/inas (try '$build/inas help') =="
