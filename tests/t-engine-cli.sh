#!/bin/sh
# t-engine-cli.sh: the model commands end to end on a small sample store.
# model init (a missing store, the next free name, a name taken, --heads
# not dividing --dim), options that do not apply, export -> import ->
# export byte for byte, imports of a truncated and of a foreign file,
# list and info as JSON; explain (the window against SQL, --json, --drop
# what-if, bad --drop lists, an unknown customer, --occlusion); score
# (one row per customer, --csv, --json, the same figures as explain,
# determinism, --at, no model, time-shift invariance of churn, names that
# need quoting). JSON is checked with sqlite3's json functions.

. "${top_srcdir:-.}/tests/lib.sh"
need sqlite3 cmp

plan 47

db=$tmp/a.db
# models DB: how many models the store holds
models() {
	q "$1" "SELECT count(*) FROM models"
}
# jvalid FILE: 1 when FILE holds valid JSON
jvalid() {
	q :memory: "SELECT json_valid(CAST(readfile('$1') AS TEXT))"
}
# jq1 FILE SQL-EXPR: one value computed from the JSON text j of FILE
jq1() {
	q :memory: "SELECT $2 FROM (SELECT CAST(readfile('$1') AS TEXT) AS j)"
}
# window DB CUSTOMER N: the ids of the customer's latest N events, oldest
# first in (ts, id) order, comma-separated
window() {
	q "$1" "SELECT group_concat(id, ',') FROM (SELECT * FROM (SELECT e.id,
	    e.ts FROM events e JOIN customers c ON c.id = e.customer_id
	    WHERE c.ext_id = '$2' ORDER BY e.ts DESC, e.id DESC LIMIT $3)
	    ORDER BY ts, id)"
}

run "$JS" sample "$db" --customers 60 --seed 3 -q
[ $status -eq 0 ] || bail "sample: $err"
ncust=$(q "$db" "SELECT count(*) FROM customers")
# a customer with more events than max_len 8, and one with fewer
big=$(q "$db" "SELECT ext_id FROM customers WHERE n_events > 12 ORDER BY id
    LIMIT 1")
small=$(q "$db" "SELECT ext_id FROM customers WHERE n_events BETWEEN 4 AND 7
    ORDER BY id LIMIT 1")
[ -n "$big" ] && [ -n "$small" ] || bail "no customers to explain"

# ---- model init ----
run "$JS" model init "$tmp/missing.db" --dim 16
[ $status -eq 1 ] && [ ! -e "$tmp/missing.db" ] &&
    echo "$err" | grep -q "missing.db"
ok $? "model init on a missing store: exit 1, a message, nothing created"
run "$JS" model init "$db" --dim 16 --layers 1 --heads 2 --max-len 8
[ $status -eq 0 ] && echo "$out" | grep -q '^model m1: d_model 16, 1 layers'
ok $? "model init: m1"
run "$JS" model list "$db"
[ $status -eq 0 ] && echo "$out" | grep -q '^m1  *[0-9TZ:-]*  *16  *1  *2  *8 '
ok $? "model list shows m1 (d 16, 1 layer, 2 heads, max_len 8)"
run "$JS" model init "$db" --dim 16 --heads 4 --max-len 64 --seed 2
[ $status -eq 0 ] && echo "$out" | grep -q '^model m2: '
ok $? "a second model init: m2"
is "$(q "$db" "SELECT group_concat(name, ' ') FROM (SELECT name FROM models
    ORDER BY id)")" "m1 m2" "the store holds m1 and m2"
run "$JS" model init "$db" --dim 16 --name m1
[ $status -ne 0 ] && echo "$err" | grep -q "m1" &&
    [ "$(models "$db")" = 2 ]
ok $? "model init --name of a model that exists: fails, nothing added"
run "$JS" model init "$db" --dim 8 --heads 3
[ $status -eq 2 ] && echo "$err" | grep -q -- "--heads" &&
    [ "$(models "$db")" = 2 ]
ok $? "--heads 3 with --dim 8: exit 2, nothing added"
run "$JS" model list "$db" --dim 8
st1=$status
run "$JS" model export "$db" "$tmp/x.safetensors" --name m1
st2=$status
run "$JS" model init "$db" --json
[ $st1 -eq 2 ] && [ $st2 -eq 2 ] && [ $status -eq 2 ] &&
    echo "$err" | grep -q "does not apply" && [ "$(models "$db")" = 2 ] &&
    [ ! -e "$tmp/x.safetensors" ]
ok $? "an option the action does not take exits 2 (list --dim, export \
--name, init --json)"

# ---- export, import ----
run "$JS" model export "$db" "$tmp/f1.safetensors" -m m1
ok $status "model export -m m1"
run "$JS" model import "$db" "$tmp/f1.safetensors" --name copy
[ $status -eq 0 ] && [ "$(models "$db")" = 3 ]
ok $? "model import --name copy"
run "$JS" model export "$db" "$tmp/f2.safetensors" -m copy
[ $status -eq 0 ] && cmp -s "$tmp/f1.safetensors" "$tmp/f2.safetensors"
ok $? "export of the copy is byte-identical to the first export"
run "$JS" model import "$db" "$tmp/f1.safetensors"
[ $status -eq 0 ] && [ "$(q "$db" "SELECT count(*) FROM models
    WHERE name = 'f1'")" = 1 ]
ok $? "model import without --name: named after the file (f1)"
head -c 1000 "$tmp/f1.safetensors" >"$tmp/cut.safetensors"
run "$JS" model import "$db" "$tmp/cut.safetensors" --name cut
[ $status -eq 1 ] && echo "$err" | grep -q "cut.safetensors" &&
    [ "$(models "$db")" = 4 ]
ok $? "import of a truncated file: exit 1 naming the file, no model added"
printf 'name,value\nnot,a model\n' >"$tmp/table.csv"
run "$JS" model import "$db" "$tmp/table.csv"
[ $status -eq 1 ] && echo "$err" | grep -q "table.csv" &&
    [ "$(models "$db")" = 4 ]
ok $? "import of a file that is not safetensors: exit 1 naming it, no \
model added"
run "$JS" model import "$db" "$tmp/f2.safetensors" --name copy
[ $status -ne 0 ] && [ "$(models "$db")" = 4 ]
ok $? "import under a name taken: fails, no model added"

# ---- list and info as JSON ----
"$JS" model list "$db" --json >"$tmp/list.json" 2>"$tmp/err"
[ $? -eq 0 ] && [ "$(jvalid "$tmp/list.json")" = 1 ] &&
    [ "$(jq1 "$tmp/list.json" "json_array_length(j)")" = 4 ]
ok $? "model list --json: valid JSON, 4 models"
is "$(jq1 "$tmp/list.json" "json_extract(j, '\$[0].name') || ' ' ||
    json_extract(j, '\$[0].config.max_len') || ' ' ||
    json_extract(j, '\$[1].config.n_heads')")" "m1 8 4" \
    "model list --json: names and configs"
"$JS" model info "$db" m1 --json >"$tmp/info.json" 2>"$tmp/err"
[ $? -eq 0 ] && [ "$(jvalid "$tmp/info.json")" = 1 ]
ok $? "model info m1 --json: valid JSON"
is "$(jget "$tmp/info.json" name config.d_model config.n_layers \
    config.max_len config.churn_horizon_days)" "m1 16 1 8 30" \
    "model info --json: name and config"
run "$JS" model info "$db" nosuch
[ $status -eq 1 ] && echo "$err" | grep -q nosuch
ok $? "model info of a missing name: exit 1 naming it"

# ---- explain ----
nbig=$(q "$db" "SELECT n_events FROM customers WHERE ext_id = '$big'")
nsmall=$(q "$db" "SELECT n_events FROM customers WHERE ext_id = '$small'")
"$JS" explain "$db" "$big" -m m1 --json >"$tmp/e1.json" 2>"$tmp/err"
[ $? -eq 0 ] && [ "$(jvalid "$tmp/e1.json")" = 1 ]
ok $? "explain --json: valid JSON"
is "$(jq1 "$tmp/e1.json" "json_extract(j, '\$.customer') || ' ' ||
    json_array_length(json_extract(j, '\$.events'))")" "$big 8" \
    "explain --json: the customer, 8 events (max_len 8 < $nbig)"
is "$(jq1 "$tmp/e1.json" "(SELECT group_concat(json_extract(value,
    '\$.event_id'), ',') FROM json_each(j, '\$.events'))")" \
    "$(window "$db" "$big" 8)" \
    "explain --json: the latest 8 events, oldest first in (ts, id) order"
"$JS" explain "$db" "$small" -m m2 --json >"$tmp/e2.json" 2>"$tmp/err"
is "$(jq1 "$tmp/e2.json" "json_array_length(json_extract(j, '\$.events'))
    || ' ' || json_array_length(json_extract(j, '\$.attention.rollout'))
    || ' ' || json_array_length(json_extract(j,
    '\$.attention.per_head[0]'))")" "$nsmall $nsmall 4" \
    "explain -m m2: all $nsmall events of a short history, 4 heads"
"$JS" explain "$db" "$big" --json >"$tmp/e3.json" 2>"$tmp/err"
is "$(jget "$tmp/e3.json" model.name)" "f1" \
    "explain without -m: the newest model"

last=$(q "$db" "SELECT e.id FROM events e JOIN customers c
    ON c.id = e.customer_id WHERE c.ext_id = '$big'
    ORDER BY e.ts DESC, e.id DESC LIMIT 1")
run "$JS" explain "$db" "$big" -m m1 --drop "$last"
[ $status -eq 0 ] && echo "$out" | grep -q "^what-if  without event $last:"
ok $? "explain --drop: a what-if line"
"$JS" explain "$db" "$big" -m m1 --json --drop "$last" >"$tmp/d.json" \
    2>"$tmp/err"
c0=$(jget "$tmp/e1.json" prediction.churn_probability)
c1=$(jget "$tmp/d.json" prediction.churn_probability)
[ -n "$c0" ] && [ "$c0" != null ] && [ -n "$c1" ] && [ "$c1" != null ] &&
    [ "$c0" != "$c1" ]
ok $? "explain --drop: another churn probability ($c0 -> $c1)"
is "$(jq1 "$tmp/d.json" "json_extract(j, '\$.dropped') || ' ' ||
    (SELECT group_concat(json_extract(value, '\$.event_id'), ',')
    FROM json_each(j, '\$.events'))")" \
    "[$last] $(q "$db" "SELECT group_concat(id, ',') FROM (SELECT * FROM
    (SELECT e.id, e.ts FROM events e JOIN customers c ON c.id =
    e.customer_id WHERE c.ext_id = '$big' AND e.id != $last
    ORDER BY e.ts DESC, e.id DESC LIMIT 8) ORDER BY ts, id)")" \
    "explain --drop: dropped lists the id; an older event enters the window"
bad=0
for d in abc 12x "1,,2" 0 -3 "5," ""; do
	run "$JS" explain "$db" "$big" -m m1 --drop "$d"
	[ $status -eq 2 ] || { bad=1; diag "--drop '$d': exit $status"; }
done
ok $bad "explain --drop with a malformed list exits 2"
run "$JS" explain "$db" NO_SUCH_CUSTOMER -m m1
[ $status -eq 1 ] && echo "$err" | grep -q NO_SUCH_CUSTOMER && [ -z "$out" ]
ok $? "explain of an unknown customer: exit 1 naming it"
other=$(q "$db" "SELECT min(e.id) FROM events e JOIN customers c
    ON c.id = e.customer_id WHERE c.ext_id != '$big'")
run "$JS" explain "$db" "$big" -m m1 --drop "$other"
[ $status -eq 1 ] && echo "$err" | grep -q "event $other "
ok $? "explain --drop of another customer's event: exit 1"
run "$JS" explain "$db" "$big" -m m1 --occlusion
num='[-+][0-9.]*'
[ $status -eq 0 ] && echo "$out" | grep -q "^faithfulness: masking the 3 most \
attended events changes churn by $num; 3 random events $num on average; \
the last 3 $num\$"
ok $? "explain --occlusion: a faithfulness line"
"$JS" explain "$db" "$big" -m m1 --occlusion --json >"$tmp/o.json" \
    2>"$tmp/err"
is "$(jq1 "$tmp/o.json" "json_array_length(json_extract(j, '\$.occlusion'))
    || ' ' || json_type(j, '\$.faithfulness.top3') || ' ' ||
    json_type(j, '\$.faithfulness.random3') || ' ' ||
    json_type(j, '\$.faithfulness.last3')")" "8 real real real" \
    "explain --occlusion --json: 8 effects and the faithfulness figures"

# ---- score ----
m1id=$(q "$db" "SELECT id FROM models WHERE name = 'm1'")
run "$JS" score "$db" -m m1 -q
[ $status -eq 0 ] && [ -z "$out" ] && echo "$err" | grep -q "^scored $ncust "
ok $? "score -q: exit 0, nothing on stdout, a summary on stderr"
is "$(q "$db" "SELECT count(*) FROM scores WHERE model_id = $m1id")" \
    "$(q "$db" "SELECT count(*) FROM customers WHERE n_events > 0")" \
    "score stores one row per customer with events"
"$JS" score "$db" -m m1 --csv >"$tmp/s1.csv" 2>"$tmp/err"
st=$?
[ $st -eq 0 ] &&
    [ "$(head -n 1 "$tmp/s1.csv")" = "customer,churn,next_type" ] &&
    [ "$(wc -l <"$tmp/s1.csv")" -eq $((ncust + 1)) ]
ok $? "score --csv: a header and one line per customer ($ncust)"
"$JS" score "$db" -m m1 --csv >"$tmp/s2.csv" 2>"$tmp/err"
cmp -s "$tmp/s1.csv" "$tmp/s2.csv"
ok $? "score twice: the same CSV"
line=$(grep "^$big," "$tmp/s1.csv")
sc=$(echo "$line" | cut -d, -f2)
is "$(q :memory: "SELECT abs($sc - $c0) < 1e-5")" 1 \
    "score and explain agree on the churn of $big ($sc, $c0)"
is "$(echo "$line" | cut -d, -f3)" \
    "$(jget "$tmp/e1.json" 'prediction.next_type[0].type')" \
    "score's next_type is explain's most likely next type"
is "$(q "$db" "SELECT count(*) FROM scores s JOIN customers c ON
    c.id = s.customer_id WHERE s.model_id = $m1id AND c.ext_id = '$big'
    AND abs(s.churn - $sc) < 1e-6 AND s.at = (SELECT max(last_ts) FROM
    customers)")" 1 "the stored score: the printed churn, as of the last \
event"
"$JS" score "$db" -m m1 --json >"$tmp/s.json" 2>"$tmp/err"
[ $? -eq 0 ] && [ "$(jvalid "$tmp/s.json")" = 1 ] &&
    [ "$(jq1 "$tmp/s.json" "json_array_length(j)")" = "$ncust" ]
ok $? "score --json: valid JSON, one entry per customer"
run "$JS" score "$db" -m m1 --csv --at 2000-01-01
[ $status -eq 0 ] && [ "$out" = "customer,churn,next_type" ] &&
    echo "$err" | grep -q "^scored 0 customers"
ok $? "score --at before every event: everyone skipped"
mid=$(q "$db" "SELECT (min(first_ts) + max(last_ts)) / 2 FROM customers")
nmid=$(q "$db" "SELECT count(*) FROM customers WHERE first_ts <= $mid")
run "$JS" score "$db" -m m2 --csv --at "$mid"
[ $status -eq 0 ] && [ "$(echo "$out" | wc -l)" -eq $((nmid + 1)) ] &&
    [ "$(q "$db" "SELECT count(*) FROM scores s JOIN models m ON m.id =
    s.model_id WHERE m.name = 'm2' AND s.at = $mid")" = "$nmid" ]
ok $? "score --at mid-year: the $nmid customers active by then, stored \
as of --at"

run "$JS" sample "$tmp/fresh.db" --customers 5 --seed 4 -q
run "$JS" score "$tmp/fresh.db"
[ $status -eq 1 ] && echo "$err" | grep -q "no model" && [ -z "$out" ] &&
    [ "$(q "$tmp/fresh.db" "SELECT count(*) FROM scores")" = 0 ]
ok $? "score on a store without a model: exit 1, 'no model', no scores"

# the churn head sees the gaps between events, never the time since the
# last one (the man page says so): b is a shifted by half a year and
# scores the same; c has a's events with other gaps and does not
ev() { printf '{"customer":"%s","ts":"%s","type":"%s"}\n' "$@"; }
{
	ev a 2024-01-01T00:00:00Z view; ev a 2024-01-03T05:00:00Z buy
	ev a 2024-01-09T00:00:00Z view
	ev b 2024-07-01T00:00:00Z view; ev b 2024-07-03T05:00:00Z buy
	ev b 2024-07-09T00:00:00Z view
	ev c 2024-01-01T00:00:00Z view; ev c 2024-01-01T00:01:00Z buy
	ev c 2024-03-09T00:00:00Z view
} >"$tmp/shift.jsonl"
"$JS" import -q "$tmp/shift.db" "$tmp/shift.jsonl" 2>"$tmp/err" &&
    "$JS" model init "$tmp/shift.db" --dim 8 --max-len 4 >/dev/null &&
    "$JS" score "$tmp/shift.db" --csv >"$tmp/shift.csv" 2>"$tmp/err"
ca=$(awk -F, '$1 == "a" { print $2 }' "$tmp/shift.csv")
cb=$(awk -F, '$1 == "b" { print $2 }' "$tmp/shift.csv")
cc=$(awk -F, '$1 == "c" { print $2 }' "$tmp/shift.csv")
[ -n "$ca" ] && [ "$ca" = "$cb" ] && [ -n "$cc" ] && [ "$cc" != "$ca" ]
ok $? "churn: a history shifted in time scores the same ($ca, $cb), \
other gaps do not ($cc)"

# names that need quoting in CSV and escaping in JSON
printf '%s\n' \
    '{"customer":"x,\"y","ts":"2024-01-01T00:00:00Z","type":"vi\"ew"}' \
    '{"customer":"x,\"y","ts":"2024-01-02T00:00:00Z","type":"vi\"ew"}' \
    >"$tmp/q.jsonl"
run "$JS" import -q "$tmp/q.db" "$tmp/q.jsonl"
run "$JS" model init "$tmp/q.db" --dim 8 --max-len 4
"$JS" score "$tmp/q.db" --csv >"$tmp/q.csv" 2>"$tmp/err"
is "$(sqlite3 -batch -cmd ".import --csv $tmp/q.csv t" :memory: \
    "SELECT count(*) || ' ' || customer || ' ' || next_type FROM t" 2>&1)" \
    '1 x,"y vi"ew' "score --csv quotes a customer id with a comma and a quote"
"$JS" score "$tmp/q.db" --json >"$tmp/q.json" 2>"$tmp/err"
is "$(jvalid "$tmp/q.json")" 1 "score --json escapes an event type with a \
quote"
