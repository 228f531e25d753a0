#!/bin/sh
# explain-truth.sh: on generated data with planted causes, how often the
# model's explanations point at them (issue 5, "Explanations"). Builds a
# sample store (2,000 customers, seed 42), trains the default model on it,
# and prints, for customers with a fired churn rule, the share of the
# rule's events among the k events each method ranks first (k = the
# rule's events in the window), against random k and the last k. Two
# norm-weighted read-outs (Kobayashi et al., 2020) are measured beside
# MODEL.md's: CUSTOMERS (default 2000) sizes the store.
# Usage: tests/bench/explain-truth.sh [src/journeyscope] (run after make)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
js=${1:-$top/src/journeyscope}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cjson=cjson
pkg-config --exists cjson 2>/dev/null || cjson=libcjson
gcc -O2 -D_GNU_SOURCE -I"$top" -I"$top/src" $(pkg-config --cflags $cjson \
    openblas) "$here/explain-truth.c" "$top/src/libjourneyscope.a" \
    $(pkg-config --libs sqlite3 ncursesw $cjson openblas zlib) -lm -pthread \
    -o "$tmp/explain-truth"
export OPENBLAS_NUM_THREADS=1 LC_ALL=C
"$js" sample "$tmp/s.db" --customers "${CUSTOMERS:-2000}" --seed 42 -q
start=$(date +%s)
"$js" train "$tmp/s.db" --threads 2 -q ${TRAIN_OPTS:-} | head -n 4
echo "(trained in $(( $(date +%s) - start )) s)"
echo
"$tmp/explain-truth" "$tmp/s.db"
