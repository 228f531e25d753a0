#!/bin/sh
# tui.sh: the explorer's speed on a big store, headless (not part of make
# check). Builds (once, kept in $BENCH_DIR) a store of 20,000 sample
# customers and about 1,000,000 events (--days 425) with a model of the
# default shape (d_model 64, 2 layers, 2 heads, max_len 200; model init:
# inference costs what a trained one of that shape costs), every
# customer's score and the RFM segments; then runs a key script with
# --timing and prints the figures.
#
# What is measured, inside the program (tui.c): for the first screen, from
# the start of the explore command (before the store is opened) to the end
# of the first frame's doupdate(); for a key, from reading it to the end
# of the frame it leads to: the action (SQL for a page, inference for a
# journey: reading the history, the forward pass, the attention read-outs)
# and the drawing, with output to a null terminal (curses still computes
# and writes every change). Idle work between keys is timed apart: for a
# journey, the occlusion run in its thread (n + 22 forward passes) until
# its result is taken in; keys never wait for it.
#
#   tests/bench/tui.sh [path/to/journeyscope]
#   BENCH_DIR=/tmp/x JOURNEYS=50 tests/bench/tui.sh

JS=${1:-src/journeyscope}
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/journeyscope-bench-tui}
JOURNEYS=${JOURNEYS:-30}
db=$BENCH_DIR/tui.db
set -e
[ -x "$JS" ] || { echo "tui.sh: no program at $JS" >&2; exit 1; }
mkdir -p "$BENCH_DIR"

if [ ! -s "$db" ] || [ "$(sqlite3 "$db" "SELECT count(*) FROM scores" \
    2>/dev/null)" != 20000 ]; then
	rm -f "$db" "$db-wal" "$db-shm"
	echo "building $db (once) ..."
	"$JS" sample "$db" --customers 20000 --seed 11 --days 425 -q
	"$JS" model init "$db" --seed 1 >/dev/null
	"$JS" score "$db" -q
	"$JS" segment "$db" rfm >/dev/null 2>&1 ||
	    echo "(no segment command: no RFM segments)"
fi
ncust=$(sqlite3 "$db" "SELECT count(*) FROM customers")
nev=$(sqlite3 "$db" "SELECT count(*) FROM events")
maxev=$(sqlite3 "$db" "SELECT max(n_events) FROM customers")
echo "store: $ncust customers, $nev events (the longest history $maxev);" \
    "model: $(sqlite3 "$db" "SELECT name || ' ' || json_extract(config,
    '$.d_model') || 'd ' || json_extract(config, '$.n_layers') || 'L ' ||
    json_extract(config, '$.n_heads') || 'H max_len ' ||
    json_extract(config, '$.max_len') FROM models ORDER BY id DESC
    LIMIT 1")"
echo "machine: $(nproc) cores, OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-unset}"

# the script: paging, scrolling, every sort, churned only, a search,
# then journeys: open (inference), every heat method, a what-if, back
keys=$BENCH_DIR/keys.txt
{
	echo "repeat 25 PgDn"
	echo "repeat 25 PgUp"
	echo "repeat 40 Down"
	echo "repeat 40 Up"
	echo "G"
	echo "g"
	echo "repeat 7 s"
	echo "c"
	echo "c"
	echo "/"
	echo "type C0199"
	echo "Enter"
	i=0
	while [ $i -lt "$JOURNEYS" ]; do
		echo "Enter"
		echo "repeat 7 m"
		echo "x"
		echo "x"
		echo "q"
		echo "repeat 37 Down"
		i=$((i + 1))
	done
	# the longest histories: by events, the top ten
	echo "repeat 5 s"
	i=0
	while [ $i -lt 10 ]; do
		echo "Enter"
		echo "repeat 7 m"
		echo "x"
		echo "q"
		echo "Down"
		i=$((i + 1))
	done
} >"$keys"

OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} \
    "$JS" explore "$db" --headless "$keys" --size 120x40 --dump /dev/null \
    --timing 2>"$BENCH_DIR/timing.txt"
t0=$(date +%s%N)
printf 'Q\n' >"$BENCH_DIR/quit.txt"
OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} \
    "$JS" explore "$db" --headless "$BENCH_DIR/quit.txt" --size 120x40 \
    --dump /dev/null
t1=$(date +%s%N)

awk -v wall=$(((t1 - t0) / 1000)) '
function report(name, what, unit,   n, i, j, t, s) {
	n = cnt[name]
	if (n == 0)
		return
	# sort the samples (insertion sort: a few hundred at most)
	for (i = 2; i <= n; i++) {
		t = v[name, i]
		for (j = i - 1; j >= 1 && v[name, j] > t; j--)
			v[name, j + 1] = v[name, j]
		v[name, j + 1] = t
	}
	s = 0
	for (i = 1; i <= n; i++)
		s += v[name, i]
	printf "  %-34s %5d %-4s  median %7.3f  p95 %7.3f  max %7.3f ms\n",
	    what, n, unit == "" ? "keys" : unit, v[name, int((n + 1) / 2)], v[name, int(n * 0.95 + 0.999)],
	    v[name, n]
}
/^first-screen/ { first = $2 }
/^key / {
	k = $2; ms = $3
	# what the key did depends on where it was pressed: follow the script
	if (k == "s" && seen_search && !injourney) longest = 1
	if (k == "Enter" && injourney == 0 && seen_search) {
		cat = longest ? "openlong" : "open"; injourney = 1
	} else if (k == "Enter" && !seen_search) {
		cat = "search"; seen_search = 1
	} else if (injourney && k == "m") cat = "method"
	else if (injourney && k == "x") cat = "whatif"
	else if (injourney && k == "q") { cat = "back"; injourney = 0 }
	else if (k == "PgDn" || k == "PgUp") cat = "page"
	else if (k == "Down" || k == "Up") cat = "row"
	else if (k == "s" && !longest) cat = "sort"
	else if (k == "c") cat = "churned"
	else if (k == "G" || k == "g") cat = "ends"
	else cat = "other"
	want_occl = cat == "open" || cat == "openlong" || cat == "whatif"
	v[cat, ++cnt[cat]] = ms
	all[++nall] = ms
	if (ms > maxall) maxall = ms
}
/^idle / && want_occl { v["occl", ++cnt["occl"]] = $4; want_occl = 0 }
END {
	printf "first screen: %.3f ms (inside: command start to the first frame)\n", first
	printf "a whole run that quits at once: %.1f ms wall (exec, dynamic linking, open, first frame, exit)\n", wall / 1000
	print "per key (action + frame, inside the program):"
	report("page", "PgDn/PgUp (a page of customers)")
	report("row", "Down/Up (a row, a row fetched)")
	report("ends", "g/G (first and last page)")
	report("sort", "s (another order, its first page)")
	report("churned", "c (churned only, on and off)")
	report("search", "/ search, Enter")
	report("open", "Enter: open a journey + inference")
	report("openlong", "the same, the 10 longest histories")
	report("method", "m (next heat method)")
	report("whatif", "x (mask/restore + re-score)")
	report("back", "q (back to the table)")
	n = 0
	for (i = 1; i <= nall; i++) if (all[i] > 16) n++
	printf "  every key: %d, the slowest %.3f ms, over 16 ms: %d\n", nall, maxall, n
	print "between keys (not in the figures above):"
	report("occl", "occlusion + faithfulness (thread)", "runs")
}' "$BENCH_DIR/timing.txt"
