#!/bin/sh
# t-sample-cli.sh: journeyscope sample end to end. The same options give the
# same store (info --checksum); ground truth points at real events of the
# right customer and type; a sample is not added twice; --csv output goes
# through the importer's clickstream preset with the same events; an
# interrupted sample leaves the store as it was. Needs $JS and sqlite3.

: "${JS:=src/journeyscope}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/t-sample.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

n=0
# report STATUS DESCRIPTION: one TAP line, with the last output on failure
report() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		[ -s "$tmp/err" ] && sed 's/^/# /' "$tmp/err"
	fi
	: >"$tmp/err"
}
# is GOT WANT DESCRIPTION
is() {
	[ "$1" = "$2" ]
	st=$?
	[ $st -ne 0 ] && echo "got '$1', want '$2'" >"$tmp/err"
	report $st "$3"
}
q() {
	sqlite3 "$1" "$2" 2>>"$tmp/err"
}

if ! command -v sqlite3 >/dev/null 2>&1; then
	echo "1..0 # SKIP the sqlite3 command is not installed"
	exit 0
fi
echo 1..22
: >"$tmp/err"

"$JS" sample "$tmp/a.db" --customers 300 --seed 5 2>"$tmp/err"
report $? "sample into a new store"
"$JS" sample "$tmp/b.db" --customers 300 --seed 5 2>>"$tmp/err"
report $? "the same sample into another store"
ca=$("$JS" info "$tmp/a.db" --checksum 2>>"$tmp/err")
cb=$("$JS" info "$tmp/b.db" --checksum 2>>"$tmp/err")
[ -n "$ca" ] && [ "$ca" = "$cb" ]
report $? "same seed, same store contents ($ca)"
"$JS" sample "$tmp/c.db" -n 300 -s 6 2>>"$tmp/err"
cc=$("$JS" info "$tmp/c.db" --checksum 2>>"$tmp/err")
[ -n "$cc" ] && [ "$cc" != "$ca" ]
report $? "another seed, other contents"

ev=$(q "$tmp/a.db" "SELECT count(*) FROM events")
[ "$ev" -gt 3000 ] 2>/dev/null
report $? "events generated ($ev)"
is "$(q "$tmp/a.db" "SELECT count(*) FROM customers")" 300 "300 customers"
is "$(q "$tmp/a.db" "SELECT count(*) FROM event_types")" 16 "16 event types"
is "$(q "$tmp/a.db" "SELECT count(*) FROM customers WHERE json_extract(attrs,
    '\$.archetype') IN ('loyal', 'bargain_hunter', 'window_shopper', 'new',
    'lapsing') AND json_extract(attrs, '\$.country') IS NOT NULL")" 300 \
    "every customer has an archetype and a country"
is "$(q "$tmp/a.db" "SELECT count(*) FROM events WHERE ts < 1704067200 OR
    ts >= 1704067200 + 365 * 86400")" 0 "events inside the default year"

is "$(q "$tmp/a.db" "SELECT count(DISTINCT rule) FROM ground_truth")" 4 \
    "ground truth for all four rules"
is "$(q "$tmp/a.db" "SELECT count(*) FROM ground_truth g WHERE NOT EXISTS
    (SELECT 1 FROM ground_truth_events x WHERE x.truth_id = g.id)")" 0 \
    "every ground-truth row names events"
is "$(q "$tmp/a.db" "SELECT count(*) FROM ground_truth_events x
    LEFT JOIN events e ON e.id = x.event_id
    JOIN ground_truth g ON g.id = x.truth_id
    WHERE e.id IS NULL OR e.customer_id != g.customer_id")" 0 \
    "ground truth points at real events of the same customer"
is "$(q "$tmp/a.db" "SELECT count(*) FROM ground_truth_events x
    JOIN ground_truth g ON g.id = x.truth_id
    JOIN events e ON e.id = x.event_id
    JOIN event_types t ON t.id = e.type_id
    WHERE NOT ((g.rule = 'tickets_unresolved' AND t.name = 'support_ticket')
    OR (g.rule = 'shipping_abandon' AND t.name IN ('shipping_view',
    'cart_add')) OR (g.rule = 'refund_bad_review' AND t.name IN ('refund',
    'review')) OR (g.rule = 'campaign_click' AND t.name = 'email_click'))")" \
    0 "ground-truth events have the rule's types"
is "$(q "$tmp/a.db" "SELECT count(*) FROM ground_truth WHERE NOT
    ((rule = 'campaign_click' AND outcome = 'purchase') OR
    (rule != 'campaign_click' AND outcome = 'churn')) OR fired NOT IN (0, 1)")" \
    0 "outcomes: churn, or purchase for campaign clicks"

"$JS" sample "$tmp/a.db" --customers 300 --seed 5 2>"$tmp/out"
st=$?
grep -q "already" "$tmp/out" && [ $st -eq 0 ] &&
    [ "$(q "$tmp/a.db" "SELECT count(*) FROM events")" = "$ev" ]
report $? "the same sample again is detected and skipped"
"$JS" sample "$tmp/b.db" --customers 300 --seed 5 --force 2>>"$tmp/err"
is "$(q "$tmp/b.db" "SELECT count(*) FROM events")" $((ev * 2)) \
    "--force adds it again"

"$JS" sample --csv "$tmp/s.csv" --customers 300 --seed 5 2>>"$tmp/err"
report $? "--csv writes a file"
is "$(head -n 1 "$tmp/s.csv")" "user_id,session_id,event,timestamp,item_id,\
item_name,category,price,amount,quantity,channel,text,rating,status,\
archetype,country,campaign" "CSV header"
"$JS" import "$tmp/d.db" "$tmp/s.csv" --preset clickstream 2>>"$tmp/err"
is "$(q "$tmp/d.db" "SELECT count(*) FROM events")" "$ev" \
    "the CSV imports with the clickstream preset to the same events"

"$JS" sample 2>"$tmp/out"
st=$?
"$JS" sample "$tmp/x.db" --csv "$tmp/x.csv" 2>>"$tmp/out"
st2=$?
"$JS" sample "$tmp/x.db" --start 2024-02-30 2>>"$tmp/out"
st3=$?
[ $st -eq 2 ] && [ $st2 -eq 2 ] && [ $st3 -eq 2 ]
report $? "usage errors exit 2 (no DB; DB with --csv; a bad date)"

# interrupt a long sample: nothing of it may land in the store
"$JS" sample "$tmp/a.db" --customers 2000000 --seed 9 2>"$tmp/int" &
pid=$!
i=0
while [ $i -lt 100 ] && ! [ -s "$tmp/a.db-journal" ] &&
    ! [ -s "$tmp/a.db-wal" ]; do
	sleep 0.05
	i=$((i + 1))
done
sleep 0.3
kill -INT $pid
wait $pid
st=$?
[ $st -eq 1 ] && grep -q interrupted "$tmp/int" &&
    [ "$("$JS" info "$tmp/a.db" --checksum)" = "$ca" ]
report $? "an interrupted sample exits 1 and leaves the store unchanged"
[ $st -eq 1 ] || sed 's/^/# /' "$tmp/int"
is "$(q "$tmp/a.db" "SELECT count(*) FROM imports")" 1 \
    "no import recorded for the interrupted sample"
