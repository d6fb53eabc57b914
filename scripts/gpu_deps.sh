#!/usr/bin/env bash
# Bundles, from this Debian machine's packages, what the build needs that a bare GPU machine lacks
# (the lent GPU machines have CUDA, CMake, ninja and a compiler, but no package registry):
# header-only libraries (gemmi, PEGTL, CLI11, nlohmann-json), GoogleTest (headers, static libraries,
# CMake config) and zlib's headers and library. Written to .deps/usr (ignored by git); scripts/gpu_check.sh
# uses it when present. The bundle has no BLAS: gpu_check.sh builds with SSEUNET_BLAS=none.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
out=.deps/usr
rm -rf .deps
mkdir -p "$out/include" "$out/lib"
for d in gemmi tao CLI nlohmann gtest gmock; do cp -rL "/usr/include/$d" "$out/include/"; done
cp -L /usr/include/zlib.h /usr/include/zconf.h "$out/include/"
arch=/usr/lib/x86_64-linux-gnu
for l in libgtest.a libgtest_main.a libgmock.a libgmock_main.a libz.a; do cp -L "$arch/$l" "$out/lib/"; done
ex=$(git rev-parse --git-path info/exclude); mkdir -p "$(dirname "$ex")"; grep -qx '/.deps/' "$ex" 2>/dev/null || echo '/.deps/' >> "$ex"
du -sh .deps
