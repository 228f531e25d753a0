#!/usr/bin/env bash
# Speed of the C sequence model engine against PyTorch, in the same run.
#
# Builds tests/bench/bench-engine.c against src/libjourneyscope.a (run
# `make` first), writes a model of the sample data's scale (d=64, L=2,
# H=2, max_len=200, 18 types, 500 items; nn_model_init_random) and N + 1
# windows (window 0: 200 events; then N drawn like customers' histories),
# checks that the reference (tests/reference/ref.py) reads the C-written
# model and agrees with the C outputs within 1e-4, then times both
# engines on the same files, one thread each:
#   (1) one 200-event window: forward (NN_LAST, item scores) plus the
#       attention arrays per_head, mean and rollout; median, ms
#   (2) N windows sorted by length, batches of BATCH padded to their
#       longest, packed before timing; customers per second
# and prints a table with the goals. The issue's single-window goal,
# <= 0.3 ms where PyTorch eager took about 1.2 ms, is judged as what it
# is on any other machine: at least 4x PyTorch in the same run (the
# milliseconds are printed too, with the floor this host sets: the
# window's matrix-product work at the 1-thread sgemm peak, timed here by
# sgemm-peak.c). Batch throughput: >= 3x PyTorch. Exits 1 when PyTorch (python3-torch) is
# missing or a step fails; a missed goal is reported, and is exit 3 only
# with STRICT=1.
#
# usage: tests/bench/engine.sh ; env N (2000), BATCH (64), REPS (2000),
#        TREPS (300, PyTorch), PYTHON (/usr/bin/python3), KEEP (a
#        directory to keep the model and windows in) override
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
py=${PYTHON:-/usr/bin/python3}
n=${N:-2000}
bs=${BATCH:-64}
reps=${REPS:-2000}
treps=${TREPS:-300}

if ! "$py" -c 'import torch, numpy' 2>/dev/null; then
	echo "engine.sh: PyTorch is missing: $py cannot import torch and" \
	    "numpy (Debian: apt-get install python3-torch; or set PYTHON)" >&2
	exit 1
fi
lib=$top/src/libjourneyscope.a
[ -f "$lib" ] || { echo "engine.sh: no $lib: run make first" >&2; exit 1; }
cjson=cjson
pkg-config --exists cjson 2>/dev/null || cjson=libcjson

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=${KEEP:-$tmp}
mkdir -p "$out"
# shellcheck disable=SC2046
gcc -O2 -Wall -Wextra -Wno-unused-parameter -D_GNU_SOURCE -I"$top" \
    -I"$top/src" $(pkg-config --cflags $cjson openblas) \
    "$here/bench-engine.c" "$lib" \
    $(pkg-config --libs sqlite3 ncursesw $cjson openblas zlib) -lm -pthread \
    -o "$tmp/bench-engine"
# shellcheck disable=SC2046
gcc -O2 -Wall -Wextra $(pkg-config --cflags openblas) \
    "$here/sgemm-peak.c" $(pkg-config --libs openblas) -o "$tmp/sgemm-peak"

cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo "?")
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 LC_ALL=C
model=$out/bench-model.safetensors
windows=$out/bench-windows.txt
"$tmp/bench-engine" make "$model" "$windows" "$n"
echo "model: $(du -h "$model" | cut -f1), $((n + 1)) windows;" \
    "$cores cores, one thread each"

# the reference reads the C-written file and agrees with the C engine
"$tmp/bench-engine" dump "$model" "$windows" "$tmp/dump.txt" 8
if ! "$py" "$top/tests/reference/ref.py" compare "$model" "$tmp/dump.txt" \
    >"$tmp/parity.txt"; then
	cat "$tmp/parity.txt" >&2
	echo "engine.sh: the C engine disagrees with the reference" >&2
	exit 1
fi
echo "parity: $(tail -n 1 "$tmp/parity.txt")"

"$tmp/bench-engine" run "$model" "$windows" "$reps" "$bs" >"$tmp/c.txt"
"$py" "$here/engine_torch.py" "$model" "$windows" "$treps" "$bs" \
    >"$tmp/torch.txt"
sed 's/^/C:       /' "$tmp/c.txt" | grep -v -e '_ms ' -e '_cps ' -e '_mflop '
sed 's/^/PyTorch: /' "$tmp/torch.txt" | grep -v -e '_ms ' -e '_cps ' -e '_mflop '

"$tmp/sgemm-peak" 2048 1 5 >"$tmp/peak.txt"

val() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
mflop=$(val single_mflop "$tmp/c.txt")
peak=$(val sgemm_best_gflops "$tmp/peak.txt")
c_ms=$(val single_ms "$tmp/c.txt")
t_ms=$(val single_ms "$tmp/torch.txt")
c_cps=$(val batch_cps "$tmp/c.txt")
t_cps=$(val batch_cps "$tmp/torch.txt")
awk -v cm="$c_ms" -v tm="$t_ms" -v cc="$c_cps" -v tc="$t_cps" \
    -v mf="$mflop" -v pk="$peak" -v strict="${STRICT:-0}" 'BEGIN {
	printf "\n%-28s %12s %12s %14s\n", "", "C engine", "PyTorch",
	    "C speed-up"
	printf "%-28s %12.3f %12.3f %13.2fx\n", "single window (ms)", cm, tm,
	    tm / cm
	printf "%-28s %12.0f %12.0f %13.2fx\n", "batch (customers/s)", cc, tc,
	    cc / tc
	floor = mf / pk	# MFLOP / (GFLOP/s) = ms
	printf "\nsingle window: %.2f MFLOP of matrix products; at the " \
	    "1-thread sgemm peak (%.1f GFLOP/s) %.3f ms, so the C engine " \
	    "runs at %.0f%% of peak\n", mf, pk, floor, 100 * floor / cm
	printf "single window: %.3f ms; the issue goal of 0.3 ms (PyTorch 1.2 ms " \
	    "there) is %s on this host\n", cm, cm <= 0.3 ? "met" : \
	    (floor > 0.3 ? "below the sgemm floor" : "missed")
	g1 = tm / cm >= 4
	g2 = cc / tc >= 3
	printf "\ngoal: single forward >= 4x torch:   %.2fx     %s\n", tm / cm,
	    g1 ? "met" : "MISSED"
	printf "goal: batch throughput >= 3x torch: %.2fx     %s\n", cc / tc,
	    g2 ? "met" : "MISSED"
	exit strict && !(g1 && g2) ? 3 : 0
}'
