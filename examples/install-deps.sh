#!/usr/bin/env bash
# install-deps.sh - makes sure the Debian packages inas needs are installed.
# As root with apt-get it installs the missing ones; otherwise it prints the
# exact apt-get command and exits 1. Sourced or run by examples/quickstart.sh
# and tests/run.sh.
set -euo pipefail

INAS_DEB_PACKAGES=(build-essential cmake pkg-config ocl-icd-opencl-dev opencl-c-headers
                   pocl-opencl-icd libclblast-dev libyaml-dev libstb-dev libcriterion-dev)

missing=()
for p in "${INAS_DEB_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "inas: installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
else
  echo "inas: missing Debian packages: ${missing[*]}" >&2
  echo "install them with:  sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
