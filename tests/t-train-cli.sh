#!/bin/sh
# t-train-cli.sh: train and eval end to end on small stores. The same
# seed on two copies of a sampled store gives byte-identical model files
# (export), another seed another file, --threads 1 runs too; eval --json
# is valid JSON with churn, next_item and next_type blocks; a store with
# only an event order (sasrec preset) trains without the churn task and
# its model info and eval say so (tasks, no churn block), --tasks churn
# there exits 2; --adam-eps is recorded and reproduces the model; bad
# options exit 2 and add no model; SIGINT after the
# first epoch keeps the best model so far (the delay comes from a timed
# run), also on a store of 300 customers, where the evaluation after the
# stop must not see the stop flag again. JSON is checked with sqlite3's
# json functions.

. "${top_srcdir:-.}/tests/lib.sh"
need sqlite3 cmp

plan 41

# jvalid FILE: 1 when FILE holds valid JSON
jvalid() {
	q :memory: "SELECT json_valid(CAST(readfile('$1') AS TEXT))"
}
# jq1 FILE SQL-EXPR: one value computed from the JSON text j of FILE
jq1() {
	q :memory: "SELECT $2 FROM (SELECT CAST(readfile('$1') AS TEXT) AS j)"
}
# models DB: how many models the store holds
models() {
	q "$1" "SELECT count(*) FROM models"
}
now_ms() {
	now=$(date +%s%N)
	case $now in
	*N)	echo $((${now%N} * 1000)) ;;	# no %N: whole seconds
	*)	echo $((now / 1000000)) ;;
	esac
}
sleep_ms() {
	sleep "$(($1 / 1000)).$(printf %03d $(($1 % 1000)))"
}
# copy DB NAME: a copy of the base store (its WAL files too) in $tmp/NAME
copy() {
	rm -f "$tmp/$2"*
	for f in "$1"*; do
		cp "$f" "$tmp/$2${f#"$1"}"
	done
}
small="--dim 16 --max-len 32"

base=$tmp/base.db
run "$JS" sample "$base" --customers 150 --seed 5 -q
[ $status -eq 0 ] || bail "sample: $err"

# ---- determinism ----
copy "$base" a.db
copy "$base" b.db
copy "$base" c.db
t0=$(now_ms)
run "$JS" train "$tmp/a.db" --epochs 2 --threads 2 --seed 3 -q $small
t1=$(now_ms)
[ $status -eq 0 ] && echo "$out" | grep -q '^model m1: 2 epochs' &&
    [ "$(models "$tmp/a.db")" = 1 ]
ok $? "train --epochs 2 --threads 2 --seed 3: model m1, 2 epochs"
t2=$((t1 - t0))
diag "a 2-epoch training takes $t2 ms here"
run "$JS" train "$tmp/b.db" --epochs 2 --threads 2 --seed 3 -q $small
ok $status "the same training on a copy of the store"
run "$JS" model export "$tmp/a.db" "$tmp/a.safetensors" -m m1
st=$status
run "$JS" model export "$tmp/b.db" "$tmp/b.safetensors" -m m1
[ $st -eq 0 ] && [ $status -eq 0 ] && [ -s "$tmp/a.safetensors" ]
ok $? "model export of both"
cmp -s "$tmp/a.safetensors" "$tmp/b.safetensors"
ok $? "the same seed and threads: byte-identical model files"
run "$JS" train "$tmp/c.db" --epochs 2 --threads 2 --seed 4 -q $small
run "$JS" model export "$tmp/c.db" "$tmp/c.safetensors" -m m1
[ $status -eq 0 ] && [ -s "$tmp/c.safetensors" ] &&
    ! cmp -s "$tmp/a.safetensors" "$tmp/c.safetensors"
ok $? "another seed: another model file"
copy "$base" d.db
run "$JS" train "$tmp/d.db" --epochs 2 --threads 1 --seed 3 -q $small
[ $status -eq 0 ] && echo "$out" | grep -q 'on 1 thread$' &&
    [ "$(models "$tmp/d.db")" = 1 ]
ok $? "--threads 1 trains too"

# ---- eval ----
"$JS" eval "$tmp/a.db" --json >"$tmp/eval.json" 2>"$tmp/err"
[ $? -eq 0 ] && [ "$(jvalid "$tmp/eval.json")" = 1 ]
ok $? "eval --json: valid JSON"
is "$(jq1 "$tmp/eval.json" "json_type(j, '\$.churn') || ' ' ||
    json_type(j, '\$.next_item') || ' ' || json_type(j, '\$.next_type')")" \
    "object object object" "eval --json: churn, next_item and next_type"
is "$(jq1 "$tmp/eval.json" "json_type(j, '\$.churn.roc_auc') || ' ' ||
    json_type(j, '\$.next_item.ndcg10') || ' ' ||
    json_type(j, '\$.next_type.accuracy')")" "real real real" \
    "eval --json: ROC AUC, NDCG@10 and accuracy are numbers"
is "$(jget "$tmp/eval.json" churn.customers)" \
    "$(q "$base" "SELECT count(*) FROM customers WHERE n_events > 0 AND
    first_ts <= (SELECT max(last_ts) FROM customers) - 30 * 86400")" \
    "eval --json: churn over every customer active by the cut-off"
"$JS" model info "$tmp/a.db" m1 --json >"$tmp/info.json" 2>"$tmp/err"
is "$(jq1 "$tmp/info.json" "json_extract(j, '\$.config.tasks')")" \
    '["churn","next-type","next-item"]' \
    "model info: trained for churn, next-type and next-item"

# ---- a store with an event order only ----
run "$JS" import -q "$tmp/s.db" "$data/sasrec.txt" --preset sasrec
[ $status -eq 0 ] || bail "import sasrec: $err"
run "$JS" train "$tmp/s.db" --tasks churn --epochs 1 -q $small
[ $status -eq 2 ] && echo "$err" | grep -q "churn task needs real timestamps" &&
    [ "$(models "$tmp/s.db")" = 0 ]
ok $? "--tasks churn on a store without real times: exit 2, a message, \
no model"
run "$JS" train "$tmp/s.db" --epochs 2 --seed 3 -q $small
[ $status -eq 0 ] && [ "$(models "$tmp/s.db")" = 1 ] &&
    ! echo "$out" | grep -q '^churn'
ok $? "train on it: a model, no churn report"
"$JS" model info "$tmp/s.db" m1 --json >"$tmp/sinfo.json" 2>"$tmp/err"
is "$(jq1 "$tmp/sinfo.json" "json_extract(j, '\$.config.tasks') || ' ' ||
    coalesce(json_type(j, '\$.metrics.churn'), 'none')")" \
    '["next-type","next-item"] none' \
    "model info --json: tasks next-type and next-item, no churn metrics"
is "$(jq1 "$tmp/sinfo.json" "json_extract(j, '\$.config.dropout')")" 0.5 \
    "dropout auto: 0.5 on a sparse store (7 events, 3 customers)"
"$JS" model info "$tmp/a.db" m1 --json >"$tmp/ainfo.json" 2>"$tmp/err"
is "$(jq1 "$tmp/ainfo.json" "json_extract(j, '\$.config.dropout')")" 0.2 \
    "dropout auto: 0.2 on the sample data (about 45 events a customer)"
run "$JS" model info "$tmp/s.db" m1
echo "$out" | grep -q '"tasks":\["next-type","next-item"\]'
ok $? "model info: the settings list the tasks without churn"
"$JS" eval "$tmp/s.db" --json >"$tmp/seval.json" 2>"$tmp/err"
[ $? -eq 0 ] && [ "$(jvalid "$tmp/seval.json")" = 1 ] &&
    [ "$(jq1 "$tmp/seval.json" "coalesce(json_type(j, '\$.churn'), 'none')
    || ' ' || json_type(j, '\$.next_item') || ' ' ||
    json_type(j, '\$.next_type')")" = "none object object" ]
ok $? "eval --json on it: next_item and next_type, no churn block"
run "$JS" eval "$tmp/s.db"
[ $status -eq 0 ] && echo "$out" | grep -q '^next type:' &&
    ! echo "$out" | grep -q '^churn'
ok $? "eval on it: next item and type, no churn section"

# ---- the binary cross entropy (--bce-negatives) ----
copy "$base" x.db
copy "$base" y.db
run "$JS" train "$tmp/x.db" --epochs 2 --seed 3 --bce-negatives 4 -q $small
st1=$status
run "$JS" train "$tmp/y.db" --epochs 2 --seed 3 --bce-negatives 4 -q $small
[ $st1 -eq 0 ] && [ $status -eq 0 ] &&
    "$JS" model export "$tmp/x.db" "$tmp/x.safetensors" -m m1 2>/dev/null &&
    "$JS" model export "$tmp/y.db" "$tmp/y.safetensors" -m m1 2>/dev/null &&
    cmp -s "$tmp/x.safetensors" "$tmp/y.safetensors" &&
    ! cmp -s "$tmp/x.safetensors" "$tmp/a.safetensors"
ok $? "--bce-negatives 4: trains, byte-identical again, not the softmax's model"
"$JS" model info "$tmp/x.db" m1 --json >"$tmp/xinfo.json" 2>"$tmp/err"
is "$(jq1 "$tmp/xinfo.json" "json_extract(j, '\$.config.item_loss') || ' ' ||
    json_extract(j, '\$.config.bce_negatives') ||
    ' ' || json_extract(j, '\$.config.negatives')")" "bce 4 0" \
    "model info --json: item_loss bce, bce_negatives 4 (negatives 0) in the settings"
copy "$base" p.db
copy "$base" r.db
run "$JS" train "$tmp/p.db" --epochs 2 --seed 3 --item-loss softmax+bce \
    --bce-negatives 4 -q $small
st1=$status
run "$JS" train "$tmp/r.db" --epochs 2 --seed 3 --item-loss softmax+bce \
    --bce-negatives 4 -q $small
[ $st1 -eq 0 ] && [ $status -eq 0 ] &&
    "$JS" model export "$tmp/p.db" "$tmp/p.safetensors" -m m1 2>/dev/null &&
    "$JS" model export "$tmp/r.db" "$tmp/r.safetensors" -m m1 2>/dev/null &&
    cmp -s "$tmp/p.safetensors" "$tmp/r.safetensors" &&
    ! cmp -s "$tmp/p.safetensors" "$tmp/x.safetensors" &&
    ! cmp -s "$tmp/p.safetensors" "$tmp/a.safetensors"
ok $? "--item-loss softmax+bce: trains, byte-identical again, neither the softmax's nor the BCE's model"
"$JS" model info "$tmp/p.db" m1 --json >"$tmp/pinfo.json" 2>"$tmp/err"
is "$(jq1 "$tmp/pinfo.json" "json_extract(j, '\$.config.item_loss') || ' ' ||
    json_extract(j, '\$.config.bce_negatives')")" "softmax+bce 4" \
    "model info --json: item_loss softmax+bce, bce_negatives 4"
# ---- AdamW's epsilon (--adam-eps) ----
copy "$base" e1.db
run "$JS" train "$tmp/e1.db" --epochs 2 --threads 2 --seed 3 --adam-eps 1e-3 \
    -q $small
[ $status -eq 0 ] &&
    "$JS" model export "$tmp/e1.db" "$tmp/e1.safetensors" -m m1 2>/dev/null &&
    ! cmp -s "$tmp/e1.safetensors" "$tmp/a.safetensors" &&
    "$JS" model info "$tmp/e1.db" m1 --json >"$tmp/e1info.json" 2>"$tmp/err" &&
    [ "$(jq1 "$tmp/e1info.json" "json_extract(j, '\$.config.adam_eps')")" = \
    0.001 ]
ok $? "--adam-eps 1e-3: another model than the default's, 0.001 in its settings"
"$JS" model info "$tmp/a.db" m1 --json >"$tmp/ainfo.json" 2>"$tmp/err"
aeps=$(jq1 "$tmp/ainfo.json" "json_extract(j, '\$.config.adam_eps')")
copy "$base" e2.db
run "$JS" train "$tmp/e2.db" --epochs 2 --threads 2 --seed 3 --adam-eps "$aeps" \
    -q $small
[ -n "$aeps" ] && [ $status -eq 0 ] &&
    "$JS" model export "$tmp/e2.db" "$tmp/e2.safetensors" -m m1 2>/dev/null &&
    cmp -s "$tmp/e2.safetensors" "$tmp/a.safetensors"
ok $? "the default model's recorded epsilon ($aeps) given back: the same model, byte for byte"
run "$JS" train "$tmp/e2.db" --adam-eps 2 -q $small
[ $status -eq 2 ] && echo "$err" | grep -q -- "adam-eps" &&
    [ "$(models "$tmp/e2.db")" = 1 ]
ok $? "--adam-eps 2: exit 2 naming --adam-eps, no model added"

# cardloss DB: the model card's loss line, as the explorer shows it
cardloss() {
	printf 'M\ndump card\n' >"$tmp/keys"
	"$JS" explore "$1" --headless "$tmp/keys" --dump "$tmp/card" \
	    >/dev/null 2>&1 &&
	    awk '/^==== card/ { on = 1; next } /^====/ { on = 0 }
	        on && /^ loss / { sub(/^ loss +/, ""); print; exit }' \
	    "$tmp/card"
}
is "$(cardloss "$tmp/a.db") | $(cardloss "$tmp/x.db") | $(cardloss "$tmp/p.db")" \
    "next item: softmax over every item | next item: BCE (SASRec's), 4 negatives a position | next item: softmax over every item + BCE, 4 negatives a position" \
    "the explorer's model card names each next-item loss"

# ---- bad options ----
copy "$base" e.db
run "$JS" train "$tmp/e.db" --heads 3 --dim 16 -q
[ $status -eq 2 ] && echo "$err" | grep -q -- "--heads 3"
ok $? "--heads 3 --dim 16: exit 2 naming --heads"
run "$JS" train "$tmp/e.db" --dropout 2 -q $small
[ $status -eq 2 ] && echo "$err" | grep -q -- "dropout"
ok $? "--dropout 2: exit 2 naming --dropout"
run "$JS" train "$tmp/e.db" --tasks bogus -q $small
[ $status -eq 2 ] && echo "$err" | grep -q -- "--tasks bogus"
ok $? "--tasks bogus: exit 2 naming it"
run "$JS" train "$tmp/e.db" --tasks churn,bogus -q $small
[ $status -eq 2 ]
ok $? "--tasks churn,bogus: exit 2"
run "$JS" train "$tmp/e.db" --negatives 8 --bce-negatives 2 -q $small
[ $status -eq 2 ] && echo "$err" | grep -q -- "--bce-negatives"
ok $? "--negatives with --bce-negatives: exit 2 naming both"
run "$JS" train "$tmp/e.db" --bce-negatives 5000 -q $small
[ $status -eq 2 ] && echo "$err" | grep -q -- "bce-negatives"
ok $? "--bce-negatives 5000: exit 2 naming it"
run "$JS" train "$tmp/e.db" --bce-negatives 0 -q $small
[ $status -eq 2 ] && echo "$err" | grep -q -- "bce-negatives"
ok $? "--bce-negatives 0: exit 2 naming it"
run "$JS" train "$tmp/e.db" --item-loss hinge -q $small
[ $status -eq 2 ] && echo "$err" | grep -q -- "--item-loss hinge"
ok $? "--item-loss hinge: exit 2 naming it"
run "$JS" train "$tmp/e.db" --item-loss softmax --bce-negatives 2 -q $small
[ $status -eq 2 ] && echo "$err" | grep -q -- "--item-loss"
ok $? "--item-loss softmax with --bce-negatives: exit 2"
is "$(models "$tmp/e.db")" 0 "no model after the bad options"

# ---- SIGINT keeps the best model so far ----
# stop DB MS: train DB for (nearly) ever, SIGINT after MS milliseconds;
# $st the exit status (KILLED when it did not stop within 10 s)
stop() {
	"$JS" train "$1" --epochs 100000 --patience 100000 --seed 3 -q \
	    $small >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	sleep_ms "$2"
	kill -INT $pid 2>/dev/null
	n=0
	while kill -0 $pid 2>/dev/null && [ $n -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	if kill -0 $pid 2>/dev/null; then
		kill -KILL $pid 2>/dev/null
		wait $pid 2>/dev/null
		st=KILLED
	else
		wait $pid
		st=$?
	fi
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}
# well after the first epoch: the whole 2-epoch run (data, 2 epochs,
# the evaluation) three times over, at least a second
delay=$((3 * t2))
[ $delay -lt 1000 ] && delay=1000
diag "SIGINT after $delay ms"
copy "$base" f.db
stop "$tmp/f.db" $delay
[ "$st" = 0 ] && echo "$out" | grep -q 'interrupted: the best so far is kept'
ok $? "SIGINT after the first epoch: exit 0, 'interrupted: the best so \
far is kept' (exit $st)"
[ "$(models "$tmp/f.db")" = 1 ] &&
    "$JS" model export "$tmp/f.db" "$tmp/f.safetensors" -m m1 >/dev/null \
    2>"$tmp/err" &&
    [ -s "$tmp/f.safetensors" ]
ok $? "the interrupted training kept a model that exports"
epochs=$(echo "$out" | sed -n 's/^model m1: \([0-9]*\) epochs.*/\1/p')
[ -n "$epochs" ] && [ "$epochs" -ge 1 ] && [ "$epochs" -lt 100000 ]
ok $? "it stopped early ($epochs epochs)"
# the same on a store of 300 customers: the evaluation after the stop
# reports progress every 256 customers, and must not stop too
run "$JS" sample "$tmp/g.db" --customers 300 --seed 5 -q
stop "$tmp/g.db" $((2 * delay))
[ "$st" = 0 ] && echo "$out" | grep -q 'interrupted: the best so far is kept' &&
    [ "$(models "$tmp/g.db")" = 1 ]
ok $? "SIGINT on a store of 300 customers: a model is kept (exit \
$st: $err)"
