#!/usr/bin/env bash
# Import speed against the sqlite3 shell, in the same run.
#
# Generates N generic CSV event rows over C customers (default 1,000,000
# and 20,000), then times `journeyscope import` into a fresh store and
# `sqlite3 -cmd '.mode csv' '.import FILE raw'` into a bare table. Prints
# both times and ratio = sqlite3 seconds / journeyscope seconds (>= 1.0
# means journeyscope is at least as fast), best of R runs each (default
# 5), and the median of the R runs' own ratios: on a shared machine the
# two-thread import loses more than the one-thread shell when the host
# takes a core away, and the median shows how much.
#
# usage: tests/bench/import.sh [BINARY] ; env N, C, R override the sizes
set -eu
here=$(cd "$(dirname "$0")" && pwd)
js=${1:-$here/../../src/journeyscope}
n=${N:-1000000}
c=${C:-20000}
runs=${R:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

command -v sqlite3 >/dev/null || { echo "needs the sqlite3 shell" >&2; exit 1; }
awk -v n="$n" -v c="$c" -f "$here/gen-events.awk" >"$tmp/events.csv"
echo "rows: $n, customers: $c, file: $(du -h "$tmp/events.csv" | cut -f1)"

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
best_js=999999 best_sq=999999 ratios=
for i in $(seq "$runs"); do
	rm -f "$tmp"/js.db* "$tmp"/sq.db*
	t0=$(now)
	"$js" import --quiet "$tmp/js.db" "$tmp/events.csv" 2>/dev/null
	t1=$(now)
	sqlite3 "$tmp/sq.db" -cmd '.mode csv' ".import $tmp/events.csv raw"
	t2=$(now)
	a=$(calc "$t1 - $t0")
	b=$(calc "$t2 - $t1")
	printf 'run %d: journeyscope %.2f s, sqlite3 .import %.2f s\n' "$i" "$a" "$b"
	best_js=$(calc "$a < $best_js ? $a : $best_js")
	best_sq=$(calc "$b < $best_sq ? $b : $best_sq")
	ratios="$ratios $(calc "$b / $a")"
done
median=$(printf '%s\n' $ratios | sort -n | awk '{ v[NR] = $1 }
	END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
got=$(sqlite3 "$tmp/js.db" 'SELECT count(*) FROM events')
[ "$got" -eq "$n" ] || { echo "journeyscope stored $got events, not $n" >&2; exit 1; }
ratio=$(calc "$best_sq / $best_js")
printf 'best: journeyscope %.2f s (%.0f rows/s), sqlite3 .import %.2f s; ratio %.2f (goal >= 1.00); median of the runs'"'"' ratios %s\n' \
		"$best_js" "$(calc "$n / $best_js")" "$best_sq" "$ratio" "$median"
