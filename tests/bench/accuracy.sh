#!/usr/bin/env bash
# Accuracy of `journeyscope train` with the shipped defaults (issue 5,
# "Accuracy" and the demo-size line). Not part of make check: the Video
# run trains for many minutes.
#
#   tests/bench/accuracy.sh demo [BINARY]
#       generates the demo's store (journeyscope sample, 2,000 customers,
#       seed 42), trains with the defaults and the demo's epochs and
#       batch (DEMO_EPOCHS 14, DEMO_BATCH 32: cmd-explore.c), and prints
#       the training time with the held-out metrics of `journeyscope
#       eval` beside their baselines;
#   tests/bench/accuracy.sh video [BINARY]
#       imports ../shared/data/sasrec-video/Video.txt with --preset sasrec
#       (or $VIDEO) and trains with the defaults, then prints HR@10 and
#       NDCG@10 (100 sampled negatives, the SASRec protocol) against the
#       SASRec paper's row for the data set (0.7410, 0.5360) and the time.
#
# TRAIN_ARGS adds options to train (say, to try a configuration before
# making it the default); the report prints them, so a figure is never
# mistaken for the defaults' when it is not. THREADS (default 2).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
what=${1:-demo}
js=${2:-$here/../../src/journeyscope}
threads=${THREADS:-2}
extra=${TRAIN_ARGS:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
db=$tmp/acc.db
export OPENBLAS_NUM_THREADS=1 LC_ALL=C

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

case $what in
demo)
	"$js" sample "$db" --customers 2000 --seed 42 -q
	epochs=${DEMO_EPOCHS:-14}
	batch=${DEMO_BATCH:-32}
	t0=$(now)
	# shellcheck disable=SC2086
	"$js" train "$db" --epochs "$epochs" --batch "$batch" \
	    --threads "$threads" -q $extra
	secs=$(since "$t0")
	echo "demo store: 2000 customers (seed 42); train --epochs $epochs" \
	    "--batch $batch --threads $threads ${extra:+$extra }took $secs s" \
	    "(goal < 30 s)"
	"$js" eval "$db" -q
	;;
video)
	data=${VIDEO:-$here/../../../shared/data/sasrec-video/Video.txt}
	[ -r "$data" ] || { echo "no $data (set VIDEO)" >&2; exit 1; }
	"$js" import --quiet --preset sasrec "$db" "$data"
	t0=$(now)
	# shellcheck disable=SC2086
	"$js" train "$db" --threads "$threads" $extra
	secs=$(since "$t0")
	"$js" eval "$db" -q | tee "$tmp/eval.txt"
	line=$(grep -m 1 'model *HR@10' "$tmp/eval.txt")
	# the sampled figures come first; full ranking's follow in brackets
	hr=$(echo "$line" | sed -n 's/^[^(]*HR@10 \([0-9.]*\) .*/\1/p')
	nd=$(echo "$line" | sed -n 's/^[^(]*NDCG@10 \([0-9.]*\) .*/\1/p')
	echo "Video, train --threads $threads ${extra:+$extra }(defaults" \
	    "otherwise): $secs s of training"
	awk -v hr="$hr" -v nd="$nd" 'BEGIN {
		printf "HR@10   %.4f  (SASRec paper 0.7410) %s\n", hr,
		    (hr > 0.7410 ? "above" : "NOT above");
		printf "NDCG@10 %.4f  (SASRec paper 0.5360) %s\n", nd,
		    (nd > 0.5360 ? "above" : "NOT above") }'
	;;
*)
	echo "usage: $0 demo|video [BINARY]" >&2
	exit 2
	;;
esac
