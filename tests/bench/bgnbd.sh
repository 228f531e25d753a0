#!/bin/sh
# BG/NBD against the published CDNOW fit.
#
# Fits `journeyscope bgnbd --summary` on the 2,357-customer CDNOW cohort
# summary (../shared/data/cdnow-summary, beside the repository) and
# compares r, alpha, a and b with the maximum-likelihood values of
# Fader, Hardie and Lee (2005), which lifetimes reproduces: r = 0.2426,
# alpha = 4.4135, a = 0.7929, b = 2.4258. Each must agree to three
# decimals (|ours - published| < 0.0005). Prints a table; exits 1 when
# a parameter is off, 2 when the fit or the data is missing.
#
# usage: tests/bench/bgnbd.sh [BINARY] ; env CDNOW overrides the CSV
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
js=${1:-$top/src/journeyscope}
csv=${CDNOW:-$top/../shared/data/cdnow-summary/cdnow_customers_summary.csv}

[ -x "$js" ] || { echo "no program at $js" >&2; exit 2; }
[ -r "$csv" ] || { echo "no CDNOW summary at $csv" >&2; exit 2; }
t0=$(date +%s.%N)
out=$("$js" bgnbd --summary "$csv") || { echo "the fit failed" >&2; exit 2; }
t1=$(date +%s.%N)
echo "$out" | awk -v secs="$(awk "BEGIN { print $t1 - $t0 }")" '
BEGIN {
	want["r"] = 0.2426; want["alpha"] = 4.4135
	want["a"] = 0.7929; want["b"] = 2.4258
	split("r alpha a b", names, " ")
}
{ got[$1] = $2 }
END {
	printf "CDNOW: %s customers, log-likelihood %s, %.2f s\n\n",
	    got["customers"], got["log-likelihood"], secs
	printf "%-6s %10s %10s %10s  %s\n", "", "published", "ours",
	    "difference", "within 0.0005"
	bad = 0
	for (i = 1; i <= 4; i++) {
		n = names[i]
		if (!(n in got)) {
			printf "%-6s %10.4f %10s\n", n, want[n], "missing"
			bad++
			continue
		}
		d = got[n] - want[n]
		pass = d < 0.0005 && d > -0.0005
		bad += !pass
		printf "%-6s %10.4f %10.4f %+10.4f  %s\n", n, want[n], got[n],
		    d, pass ? "yes" : "NO"
	}
	print bad ? "\nFAIL: " bad " of 4 parameters off" : "\nPASS"
	exit bad ? 1 : 0
}'
