#!/usr/bin/env bash
# Installs sseunet's build and test dependencies from Debian packages. Idempotent: packages
# already present are left alone, so a second run is a no-op apart from apt's checks.
# The CUDA toolkit (nvcc, cuBLAS, cuDNN) is optional and not installed here; CMake detects it.
set -euo pipefail
pkgs=(g++ cmake ninja-build make pkg-config
      libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libopenblas-dev gemmi-dev tao-pegtl-dev zlib1g-dev nlohmann-json3-dev
      libcairo2-dev fonts-dejavu-core
      libopenmpi-dev openmpi-bin)  # MPI: data-parallel training (optional at build time; CI tests 2 ranks)
# Test oracles and fixture generators (optional at run time; tests that need them skip without them):
# chromium renders the HTML reports in a headless browser (about 15 s to install, 1.3 s per check).
extras=(python3-mrcfile dssp chromium)
missing=()
for p in "${pkgs[@]}" "${extras[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "setup: all dependencies present"
