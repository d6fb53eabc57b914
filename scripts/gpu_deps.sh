#!/usr/bin/env bash
# Bundles, from this Debian machine's packages, what the build needs that a bare GPU machine lacks
# (the lent GPU machines have CUDA, CMake, ninja and a compiler, but no package registry):
# header-only libraries (gemmi, PEGTL, CLI11, nlohmann-json), GoogleTest (headers, static libraries,
# CMake config), zlib's headers and library, and Cairo with the shared libraries it loads and a font. Written to .deps/usr (ignored by git); scripts/gpu_check.sh
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
# Cairo (plot/): its headers, the shared library and every library it loads but glibc's own, and a
# font with a fontconfig file naming it (gpu_check.sh sets LD_LIBRARY_PATH and FONTCONFIG_FILE).
cp -rL /usr/include/cairo "$out/include/"
cp -L "$arch/libcairo.so.2" "$out/lib/" && ln -sf libcairo.so.2 "$out/lib/libcairo.so"
for l in $(ldd "$arch/libcairo.so.2" | awk '$3 ~ /^\// {print $3}'); do
  case "$(basename "$l")" in libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*) ;; *) cp -L "$l" "$out/lib/" ;; esac
done
mkdir -p "$out/share/fonts" "$out/etc/fonts"
cp -L /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf "$out/share/fonts/"
cat > "$out/etc/fonts/fonts.conf" <<'CONF'
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <dir prefix="relative">../../share/fonts</dir>
  <cachedir>/tmp/sseunet-fontconfig</cachedir>
  <alias><family>sans-serif</family><prefer><family>DejaVu Sans</family></prefer></alias>
</fontconfig>
CONF
ex=$(git rev-parse --git-path info/exclude); mkdir -p "$(dirname "$ex")"; grep -qx '/.deps/' "$ex" 2>/dev/null || echo '/.deps/' >> "$ex"
du -sh .deps
