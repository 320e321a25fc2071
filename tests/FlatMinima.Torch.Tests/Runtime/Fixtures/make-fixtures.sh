#!/usr/bin/env bash
# Regenerates the synthetic ELF fixtures of RuntimeTests (needs gcc and GNU ld; run from this folder):
#   old/libstdc++.so.6  a stand-in libstdc++ defining GLIBCXX_3.4 and GLIBCXX_3.4.30 (like Debian 12's, without 3.4.32)
#   new/libstdc++.so.6  the same with GLIBCXX_3.4.31 and GLIBCXX_3.4.32 (std::ios_base_library_init, GCC 13's anchor)
#   shim.so             a stand-in for TorchSharp's shim: needs GLIBCXX_3.4 and, for the anchor only, GLIBCXX_3.4.32
#   shim-other.so       the same, also needing GLIBCXX_3.4.31 for a function that is really called
# No C library is linked (-nostdlib), so the files are a few kilobytes and need no glibc version.
set -euo pipefail
F="-shared -fPIC -nostdlib -Os -s -Wl,--hash-style=gnu -Wl,--build-id=none -Wl,-z,noseparate-code -Wl,-z,norelro"
mkdir -p old new
gcc $F -Wl,-soname,libstdc++.so.6 -Wl,--version-script=stdcxx-old.map -o old/libstdc++.so.6 stdcxx.c
gcc $F -DWITH_ANCHOR -DWITH_OTHER -Wl,-soname,libstdc++.so.6 -Wl,--version-script=stdcxx-new.map -o new/libstdc++.so.6 stdcxx.c
gcc $F -o shim.so shim.c -Lnew -l:libstdc++.so.6
gcc $F -DWITH_OTHER -o shim-other.so shim.c -Lnew -l:libstdc++.so.6
