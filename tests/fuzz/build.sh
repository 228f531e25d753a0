#!/bin/sh
# tests/fuzz/build.sh: build the libFuzzer harnesses with clang, ASan and
# UBSan into a private directory (never the main build's objects).
#
# Environment: top_srcdir, top_builddir (default .), FUZZ_BUILD (default
# $top_builddir/tests/fuzz/build), FUZZ_CC (clang), FUZZ_CPPFLAGS and
# FUZZ_LIBS (the library flags; make fuzz passes configure's, else
# pkg-config is asked), FUZZ_JOBS (parallel compiles, 2).
set -e
srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
out=${FUZZ_BUILD:-$builddir/tests/fuzz/build}
cc=${FUZZ_CC:-clang}
jobs=${FUZZ_JOBS:-2}
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags="-g -O1 -fno-omit-frame-pointer -pthread $san"
# a tiny read size so that small inputs cross the reader's window
defs="-DREAD_CHUNK=64"
# clang 14 names a target_clones function "NAME.ifunc", which nothing
# links against: the fuzz build's config.h (included first) turns the
# clones off, and nn-layers.c's vector helpers then only warn (-Wpsabi)
if [ -z "${FUZZ_CPPFLAGS+x}" ]; then
	FUZZ_CPPFLAGS="-I$builddir -I$srcdir/src -D_GNU_SOURCE \
	    $(pkg-config --cflags sqlite3 libcjson zlib ncursesw openblas)"
fi
if [ -z "${FUZZ_LIBS+x}" ]; then
	FUZZ_LIBS="$(pkg-config --libs sqlite3 libcjson zlib ncursesw \
	    openblas) -lm"
fi

# The library code the harnesses reach (the archive takes what each needs).
lib="err util tparse import import-csv import-json import-preset store
    store-ingest store-query store-model store-segment store-browse segment
    segment-filter nn-io nn-model nn-layers nn-ref tokens keys"
harnesses="csv jsonl preset tparse model filter keys"

command -v "$cc" >/dev/null 2>&1 || {
	echo "fuzz: $cc not found (apt-get install clang" \
	    "libclang-rt-14-dev)" >&2
	exit 1
}
mkdir -p "$out/obj" "$out/inc"
abs_builddir=$(cd "$builddir" && pwd)
cfg="#include \"$abs_builddir/config.h\"
#undef HAVE_TARGET_CLONES"
if [ "$(cat "$out/inc/config.h" 2>/dev/null)" != "$cfg" ]; then
	printf '%s\n' "$cfg" >"$out/inc/config.h"
fi
# an object is rebuilt when its source, a header or config.h is newer
newest=$(ls -t "$srcdir"/src/*.h "$out/inc/config.h" "$builddir/config.h" |
    head -n 1)
for f in $lib; do
	o="$out/obj/$f.o"
	if [ ! -f "$o" ] || [ "$srcdir/src/$f.c" -nt "$o" ] || \
	    [ "$newest" -nt "$o" ]; then
		echo "$f"
	fi
done | xargs -r -P "$jobs" -I '{}' sh -c "echo '  CC (fuzz) src/{}.c'; \
    $cc $cflags -Wno-psabi -Wno-unknown-attributes \
    -fsanitize=fuzzer-no-link -I'$out/inc' \
    $FUZZ_CPPFLAGS $defs \
    -c '$srcdir/src/{}.c' -o '$out/obj/{}.o'"
for f in $lib; do
	test -f "$out/obj/$f.o" || { echo "fuzz: src/$f.c did not build" >&2;
	    exit 1; }
done
rm -f "$out/libfuzz.a"
ar rc "$out/libfuzz.a" $(for f in $lib; do echo "$out/obj/$f.o"; done)
for h in $harnesses; do
	echo "  CCLD (fuzz) tests/fuzz/fuzz-$h"
	$cc $cflags -fsanitize=fuzzer -I"$out/inc" $FUZZ_CPPFLAGS \
	    "$srcdir/tests/fuzz/fuzz-$h.c" "$out/libfuzz.a" $FUZZ_LIBS \
	    -o "$out/fuzz-$h"
done
