#!/usr/bin/env bash
# run.sh - installs what is missing, builds inas twice (linked against the
# OpenCL ICD loader, and with INAS_DLOPEN_OPENCL) with warnings as errors, and
# runs the whole test suite with ctest in both builds.
#   tests/run.sh            both builds
#   INAS_BUILD_MODES=linked tests/run.sh    only one
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash examples/install-deps.sh

jobs=${INAS_JOBS:-$(nproc 2>/dev/null || echo 2)}
modes=${INAS_BUILD_MODES:-"linked dlopen"}
status=0
for mode in $modes; do
  case $mode in
    linked) dir=build-tests; flags=(-DINAS_DLOPEN_OPENCL=OFF) ;;
    dlopen) dir=build-tests-dlopen; flags=(-DINAS_DLOPEN_OPENCL=ON) ;;
    *) echo "tests/run.sh: unknown mode $mode" >&2; exit 2 ;;
  esac
  echo "== inas: $mode build ($dir) =="
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINAS_WERROR=ON "${flags[@]}" >/dev/null
  cmake --build "$dir" -j "$jobs"
  if ! ctest --test-dir "$dir" --output-on-failure -j "$jobs"; then
    status=1
  fi
done
exit $status
