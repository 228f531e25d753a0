#!/usr/bin/env bash
# Training speed of `journeyscope train` against PyTorch and against the
# machine's sgemm peak, in the same run (issue 5, "Speed"). Not part of
# make check: it needs PyTorch, the SASRec Video data and a few minutes.
#
#  1. imports Video.txt (--preset sasrec) into a fresh store and runs
#     `journeyscope train STORE --epochs E --max-len 50 --threads 2 -q`,
#     --negatives K, the defaults otherwise (d 64, 2 layers, 2 heads,
#     --dropout P (DROPOUT, 0.2 by default on both sides: train's own
#     default would take 0.5 on this sparse data), batch 128; K = 0, every
#     item, is the default); its "N tokens/s on T threads" line counts the
#     real (non-padding) input tokens per second of training steps only;
#  2. runs tests/bench/train_torch.py: the same network, loss, optimiser,
#     batch size, windows and batching in eager PyTorch, float32,
#     torch.set_num_threads(2) with OMP/OPENBLAS_NUM_THREADS=2, for the
#     same E epochs, timing the steps only (tokens/s counted the same way).
#     OpenMP's wait policy decides how PyTorch copes with a loaded machine
#     (spinning threads collapse when another process holds a core), so
#     by default a 12-step trial under each of OMP_WAIT_POLICY=passive and
#     active picks the faster for the measured run: PyTorch at its best;
#  3. times a 2048 x 2048 x 2048 cblas_sgemm on 2 OpenBLAS threads
#     (tests/bench/sgemm-peak.c, best of 7, before step 1 and after step
#     2; the higher is the peak), and the fraction of it that
#     journeyscope's training reaches;
#  4. prints a table with the goals: tokens/s >= 3x PyTorch, training
#     FLOP/s >= 50% of the sgemm peak.
#
# The FLOPs of a training step are counted analytically, useful work on
# real tokens only (no padding, causal attention as the triangle j <= k),
# every matrix product of the forward and the backward pass. Per epoch,
# with N = real input tokens, P = sum over windows of n (n + 1) / 2,
# I = positions with an item target (known item), d = 64, L = 2,
# NT = 3 types, K negatives (the n_items - 2 known items when K = 0):
#
#   linear layers  72 d^2 L N      per token and layer 2 (3d^2 + d^2 + 4d^2
#                                  + 4d^2) = 24 d^2 forward, twice that
#                                  backward (input and weight gradients)
#   attention      12 d L P        per causal pair and layer: QK^T and AV
#                                  2d each forward; dA = dO V^T, dV = A^T dO,
#                                  dQ = dS K, dK = dS^T Q 2d each backward
#   type head      6 d NT N        2 d NT forward, 4 d NT backward
#   item head      6 d (K + 1) I   the K shared negatives and the true item
#                                  (K + 1 counted for the full softmax too):
#                                  2d each forward, 4d each backward
#
# training FLOP/s = (FLOPs of an epoch / steps of an epoch) x steps/s,
# steps/s = tokens/s x steps of an epoch / N. LayerNorm, GELU, softmax,
# dropout, embedding sums and AdamW are not counted (not matrix products).
# N, P and I come from train_torch.py, which builds the same windows.
#
# usage: tests/bench/train.sh ; env EPOCHS (2), NEGATIVES (0: every item,
#        the default of train; 256 sampled is the cheaper head), DROPOUT (0.2),
#        DATA (the Video.txt),
#        JS (src/journeyscope), PYTHON (/usr/bin/python3),
#        TORCH_OMP_WAIT_POLICY (auto | passive | active), KEEP (a
#        directory to keep the store and the logs in), STRICT=1 (exit 3
#        when a goal is missed)
# Exit: 0 done (goals reported), 1 PyTorch missing or a step failed,
# 3 a goal missed with STRICT=1.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
py=${PYTHON:-/usr/bin/python3}
js=${JS:-$top/src/journeyscope}
data=${DATA:-/work/shared/data/sasrec-video/Video.txt}
epochs=${EPOCHS:-2}
maxlen=50
negatives=${NEGATIVES:-0}
dropout=${DROPOUT:-0.2}
threads=2
policy=${TORCH_OMP_WAIT_POLICY:-auto}
export LC_ALL=C

if ! "$py" -c 'import torch, numpy' 2>/dev/null; then
	echo "train.sh: PyTorch is missing: $py cannot import torch and" \
	    "numpy (Debian: apt-get install python3-torch; or set PYTHON)" >&2
	exit 1
fi
[ -x "$js" ] || { echo "train.sh: no $js: run make first" >&2; exit 1; }
[ -r "$data" ] || { echo "train.sh: cannot read $data (set DATA)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=${KEEP:-$tmp}
mkdir -p "$out"

# shellcheck disable=SC2046
gcc -O2 -Wall -Wextra $(pkg-config --cflags openblas) \
    "$here/sgemm-peak.c" $(pkg-config --libs openblas) -o "$tmp/sgemm-peak"

now() { date +%s.%N; }
val() { awk -v k="$1" '$1 == k { v = $2 } END { print v }' "$2"; }
load() { awk '{ printf "%s %s %s", $1, $2, $3 }' /proc/loadavg; }
loads=""
note_load() { loads="$loads $1 [$(load)];"; }

cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo "?")
echo "machine: $cores cores, $(awk -F': ' '/model name/ { print $2; exit }' \
    /proc/cpuinfo); $(uptime | sed 's/.*load/load/')"
busy=$(ps -eo pcpu=,pid=,args= --sort=-pcpu | awk -v me=$$ \
    '$1 >= 20 && $2 != me { $1 = $1 "%"; print "  " substr($0, 1, 110) }')
if [ -n "$busy" ]; then
	echo "other processes using the CPU (ps %CPU, over each one's life):"
	echo "$busy"
fi
note_load start

# 3 (first half): the sgemm peak before the training runs
OPENBLAS_NUM_THREADS=$threads "$tmp/sgemm-peak" 2048 "$threads" 7 \
    >"$tmp/sgemm1.txt"
OPENBLAS_NUM_THREADS=1 "$tmp/sgemm-peak" 2048 1 5 >"$tmp/sgemm-1t.txt"
note_load sgemm

# 1: journeyscope
db=$out/video.db
rm -f "$db" "$db"-*
"$js" import --quiet "$db" "$data" --preset sasrec >"$out/import.txt" 2>&1 ||
    { cat "$out/import.txt" >&2; echo "train.sh: import failed" >&2; exit 1; }
t0=$(now)
if ! "$js" train "$db" --epochs "$epochs" --max-len "$maxlen" \
    --negatives "$negatives" --dropout "$dropout" --threads "$threads" -q \
    >"$out/js-train.txt" 2>&1; then
	cat "$out/js-train.txt" >&2
	echo "train.sh: journeyscope train failed" >&2
	exit 1
fi
t1=$(now)
note_load journeyscope
js_line=$(grep -E 'tokens/s on [0-9]+ thread' "$out/js-train.txt" | head -n 1)
js_tps=$(echo "$js_line" | sed -E 's/.* ([0-9.]+) tokens\/s on.*/\1/')
js_thr=$(echo "$js_line" | sed -E 's/.*tokens\/s on ([0-9]+) thread.*/\1/')
if [ -z "$js_tps" ] || [ "$js_thr" != "$threads" ]; then
	cat "$out/js-train.txt" >&2
	echo "train.sh: no \"tokens/s on $threads threads\" line" >&2
	exit 1
fi
echo "journeyscope: $js_line (wall $(awk -v a="$t0" -v b="$t1" \
    'BEGIN { printf "%.1f", b - a }') s with validation and evaluation)"

# 2: PyTorch, the same epochs
torch_env() {
	env OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads \
	    MKL_NUM_THREADS=$threads OMP_WAIT_POLICY="$1" "$py" \
	    "$here/train_torch.py" "$data" --max-len "$maxlen" \
	    --negatives "$negatives" --dropout "$dropout" --threads "$threads" \
	    "${@:2}"
}
if [ "$policy" = auto ]; then
	best=0
	for p in passive active; do
		torch_env "$p" --epochs 1 --max-steps 12 --no-check \
		    >"$tmp/trial-$p.txt" 2>&1 ||
		    { cat "$tmp/trial-$p.txt" >&2; exit 1; }
		r=$(val torch_tokens_per_s "$tmp/trial-$p.txt")
		echo "PyTorch trial, OMP_WAIT_POLICY=$p: $r tokens/s (12 steps)"
		if awk -v r="$r" -v b="$best" 'BEGIN { exit !(r > b) }'; then
			best=$r
			policy=$p
		fi
	done
fi
if ! torch_env "$policy" --epochs "$epochs" >"$out/torch-train.txt" \
    2>"$out/torch-err.txt"; then
	cat "$out/torch-err.txt" "$out/torch-train.txt" >&2
	echo "train.sh: train_torch.py failed" >&2
	exit 1
fi
note_load pytorch
cat "$out/torch-err.txt"
t_tps=$(val torch_tokens_per_s "$out/torch-train.txt")
echo "PyTorch $(val torch_version "$out/torch-train.txt"),"\
    "OMP_WAIT_POLICY=$policy: $t_tps tokens/s on"\
    "$(val torch_threads "$out/torch-train.txt") threads over $epochs"\
    "epochs ($(val train_seconds "$out/torch-train.txt") s of steps;"\
    "per epoch $(grep '_tokens_per_s' "$out/torch-train.txt" |
    grep '^epoch' | awk '{ printf "%s%.0f", sep, $2; sep = ", " }'))"

# 3 (second half): the sgemm peak after
OPENBLAS_NUM_THREADS=$threads "$tmp/sgemm-peak" 2048 "$threads" 7 \
    >"$tmp/sgemm2.txt"
note_load sgemm
p1=$(val sgemm_best_gflops "$tmp/sgemm1.txt")
p2=$(val sgemm_best_gflops "$tmp/sgemm2.txt")
p1t=$(val sgemm_best_gflops "$tmp/sgemm-1t.txt")
echo "sgemm 2048^3, $threads threads, best of 7: $p1 GFLOP/s before,"\
    "$p2 after (1 thread: $p1t)"

N=$(val tokens "$out/torch-train.txt")
P=$(val pairs "$out/torch-train.txt")
I=$(val item_targets "$out/torch-train.txt")
S=$(val steps_per_epoch "$out/torch-train.txt")
NT=$(val n_types "$out/torch-train.txt")
echo "windows $(val windows "$out/torch-train.txt"), per epoch: $S steps,"\
    "$N real tokens, $P causal pairs, $I item targets;"\
    "load (1, 5, 15 min) at:$loads"

awk -v jt="$js_tps" -v tt="$t_tps" -v p1="$p1" -v p2="$p2" -v N="$N" \
    -v P="$P" -v I="$I" -v S="$S" -v NT="$NT" -v d=64 -v L=2 \
    -v K="$(awk -v k="$negatives" -v ni="$(val n_items "$out/torch-train.txt")" \
    'BEGIN { print (k == 0 || k >= ni - 2) ? ni - 2 : k }')" \
    -v strict="${STRICT:-0}" 'BEGIN {
	peak = p1 > p2 ? p1 : p2
	lin = 72 * d * d * L * N
	att = 12 * d * L * P
	typ = 6 * d * NT * N
	itm = 6 * d * (K + 1) * I
	F = lin + att + typ + itm
	fstep = F / S
	sps = jt * S / N
	gf = fstep * sps / 1e9
	frac = gf / peak
	ratio = jt / tt
	printf "\nFLOPs of an epoch: %.4g (linear %.1f%%, attention %.1f%%, " \
	    "type head %.1f%%, item head %.1f%%); %.4g a step, %.0f a token\n",
	    F, 100 * lin / F, 100 * att / F, 100 * typ / F, 100 * itm / F,
	    fstep, F / N
	printf "\n%-34s %14s\n", "", "value"
	printf "%-34s %14.0f\n", "journeyscope tokens/s", jt
	printf "%-34s %14.0f\n", "PyTorch tokens/s", tt
	printf "%-34s %13.2fx\n", "ratio journeyscope / PyTorch", ratio
	printf "%-34s %14.1f\n", "sgemm peak GFLOP/s (2 threads)", peak
	printf "%-34s %14.2f\n", "journeyscope training GFLOP/s", gf
	printf "%-34s %13.1f%%\n", "fraction of sgemm peak", 100 * frac
	printf "%-34s %14.2f\n", "journeyscope steps/s", sps
	g1 = ratio >= 3
	g2 = frac >= 0.5
	printf "\ngoal: tokens/s >= 3x PyTorch:       %5.2fx  %s\n", ratio,
	    g1 ? "met" : "MISSED"
	printf "goal: >= 50%% of the sgemm peak:    %5.1f%%  %s\n", 100 * frac,
	    g2 ? "met" : "MISSED"
	exit strict && !(g1 && g2) ? 3 : 0
}'
