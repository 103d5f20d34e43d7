#!/usr/bin/env bash
# intel-ocl.sh - a second OpenCL driver for the tests: the Intel CPU OpenCL
# runtime, which (unlike PoCL 3 of Debian 12) has cl_khr_fp16, so the fp16
# arithmetic kernels run somewhere. Fetches the pinned PyPI wheels
# (intel-opencl-rt, intel-cmplr-lib-rt, tbb) into DIR once, unpacks the
# libraries, and writes DIR/env.sh, which makes the runtime visible next to
# the system's ICDs (OCL_ICD_VENDORS, LD_LIBRARY_PATH). Prints the path of
# env.sh; exit 1 (with a message) when the wheels cannot be had.
#   . "$(tests/intel-ocl.sh ~/.cache/inas/intel-ocl)"; INAS_DEVICE=intel ...
set -euo pipefail
dir=${1:?usage: intel-ocl.sh DIR}
wheels=(intel-opencl-rt==2026.2.0 intel-cmplr-lib-rt==2026.2.0 tbb==2023.2.0)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ ! -f "$dir/lib/libintelocl.so" ]; then
  if ! command -v python3 >/dev/null || ! python3 -m pip --version >/dev/null 2>&1; then
    echo "intel-ocl.sh: python3 -m pip is not available" >&2
    exit 1
  fi
  rm -rf "$dir/wheels" "$dir/unpacked" "$dir/lib"
  if ! timeout 900 python3 -m pip download -q --no-deps -d "$dir/wheels" "${wheels[@]}" >&2; then
    echo "intel-ocl.sh: cannot download ${wheels[*]}" >&2
    exit 1
  fi
  mkdir -p "$dir/unpacked" "$dir/lib"
  for w in "$dir"/wheels/*.whl; do python3 -m zipfile -e "$w" "$dir/unpacked" >&2; done
  cp -a "$dir"/unpacked/*.data/data/lib/. "$dir/lib/"
  rm -f "$dir"/lib/libOpenCL.so* # the system's ICD loader stays in charge
  rm -rf "$dir/wheels" "$dir/unpacked"
fi
mkdir -p "$dir/vendors"
cp /etc/OpenCL/vendors/*.icd "$dir/vendors/" 2>/dev/null || true
echo "$dir/lib/libintelocl.so" > "$dir/vendors/intel-cpu.icd"
cat > "$dir/env.sh" <<ENV
# made by tests/intel-ocl.sh: the system's OpenCL drivers plus the Intel CPU runtime
export OCL_ICD_VENDORS="$dir/vendors"
export LD_LIBRARY_PATH="$dir/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
ENV
echo "$dir/env.sh"
