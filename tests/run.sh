#!/usr/bin/env bash
# run.sh - installs what is missing, builds inas twice (linked against the
# OpenCL ICD loader, and with INAS_DLOPEN_OPENCL) with warnings as errors, and
# runs the whole test suite with ctest in both builds (PoCL, the Debian CPU
# driver), then the half-precision suites again on a second driver with
# cl_khr_fp16 (the Intel CPU OpenCL runtime, fetched from PyPI by
# tests/intel-ocl.sh; skipped with a message when it cannot be had).
#   tests/run.sh            both builds
#   INAS_BUILD_MODES=linked tests/run.sh    only one
#   INAS_FP16_DRIVER=off tests/run.sh       without the second driver
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
  if ! ctest --test-dir "$dir" --output-on-failure -j "$jobs" -LE fp16; then
    status=1
  fi
done

# fp16 arithmetic needs cl_khr_fp16, which PoCL 3 lacks: run the suites with
# half kernels on the Intel CPU runtime (the ctest entries labelled fp16).
if [ "${INAS_FP16_DRIVER:-on}" != off ]; then
  first=${modes%% *}
  dir=build-tests; [ "$first" = dlopen ] && dir=build-tests-dlopen
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/inas/intel-ocl
  if envfile=$(bash tests/intel-ocl.sh "$cache"); then
    echo "== inas: fp16 suites on the Intel CPU OpenCL runtime ($dir) =="
    if ! (. "$envfile" && INAS_DEVICE=intel ctest --test-dir "$dir" --output-on-failure -j "$jobs" -L fp16); then
      status=1
    fi
  else
    echo "== inas: Intel CPU OpenCL runtime unavailable: fp16 arithmetic tests were skipped =="
  fi
fi
exit $status
