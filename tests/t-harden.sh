#!/bin/sh
# t-harden.sh: hostile stores and hard stops. A file that is not SQLite,
# a truncated store, a newer schema, an older one (migrated only by a
# writing command, which says so), a store locked by another writer: each
# gets a clear message and the file stays as it was. SIGKILL during
# training keeps the previous models intact and usable, and the same
# training then succeeds; SIGKILL during segment rebuilds leaves the
# segments as they were. Absurd sizes are refused early, naming the limit.
. "${top_srcdir:-.}/tests/lib.sh"
need sqlite3 cmp
plan 34

# a store of 300 customers with a trained model
base=$tmp/base.db
run "$JS" sample "$base" --customers 300 --seed 9 -q
run "$JS" train "$base" --epochs 2 --dim 16 --max-len 32 --threads 2 -q
ok $status "a store with a model to harm"

# copy DB NAME: the store and its WAL files into $tmp/NAME
copy() {
	rm -f "$tmp/$2" "$tmp/$2-wal" "$tmp/$2-shm"
	sqlite3 "$1" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
	cp "$1" "$tmp/$2"
}
# sums FILE: a digest of the file's bytes
sums() {
	cksum <"$1"
}

# ---- not a store ----
printf 'customer,time,type\nc1,2024-01-01,view\n' >"$tmp/text.db"
before=$(sums "$tmp/text.db")
run "$JS" info "$tmp/text.db"
[ $status -eq 1 ] && echo "$err" | grep -q "text.db"
ok $? "a text file: exit 1, the message names it"
is "$(sums "$tmp/text.db")" "$before" "the text file is untouched"
run "$JS" import "$tmp/text.db" "$data/custom.csv"
[ $status -ne 0 ] && [ "$(sums "$tmp/text.db")" = "$before" ]
ok $? "importing into it: refused, untouched"

# another program's SQLite database
sqlite3 "$tmp/other.db" "CREATE TABLE t(x); INSERT INTO t VALUES (1);"
before=$(sums "$tmp/other.db")
run "$JS" score "$tmp/other.db"
[ $status -eq 1 ] && [ "$(sums "$tmp/other.db")" = "$before" ]
ok $? "another program's SQLite file: refused, untouched ($err)"

# ---- a truncated store ----
copy "$base" trunc.db
size=$(wc -c <"$tmp/trunc.db")
head -c $((size / 2)) "$tmp/trunc.db" >"$tmp/t2" && mv "$tmp/t2" "$tmp/trunc.db"
before=$(sums "$tmp/trunc.db")
run "$JS" explain "$tmp/trunc.db" C000001
[ $status -eq 1 ] && echo "$err" | grep -q "trunc.db"
ok $? "a truncated store: exit 1 naming it ($err)"
run "$JS" import "$tmp/trunc.db" "$data/custom.csv"
[ $status -ne 0 ]
ok $? "importing into a truncated store fails"
is "$(sums "$tmp/trunc.db")" "$before" "the truncated file is untouched"

# ---- a newer schema ----
copy "$base" newer.db
sqlite3 "$tmp/newer.db" "PRAGMA user_version = 99"
before=$(sums "$tmp/newer.db")
run "$JS" info "$tmp/newer.db"
[ $status -eq 1 ] && echo "$err" | grep -q "newer"
ok $? "a newer schema: refused, saying it is newer"
run "$JS" train "$tmp/newer.db" --epochs 1 -q
[ $status -eq 1 ] && [ "$(sums "$tmp/newer.db")" = "$before" ]
ok $? "training on it: refused, untouched"

# ---- an older schema: migrated only when written, and said so ----
copy "$base" older.db
sqlite3 "$tmp/older.db" "DROP TABLE customer_rfm; DROP TABLE customer_bgnbd;
DROP INDEX customers_first; PRAGMA user_version = 1;"
before=$(sums "$tmp/older.db")
run "$JS" info "$tmp/older.db"
[ $status -eq 1 ] && echo "$err" | grep -q "journeyscope migrate"
ok $? "reading an older store: refused, pointing at migrate"
is "$(sums "$tmp/older.db")" "$before" "the older store is not migrated by a reader"
run "$JS" score "$tmp/older.db" -q
[ $status -eq 0 ] && echo "$err" | grep -q "migrated the store from schema version 1"
ok $? "a writing command migrates it and says so"
is "$(q "$tmp/older.db" "PRAGMA user_version")" \
    "$(q "$base" "PRAGMA user_version")" "now at this version"
run "$JS" migrate "$tmp/older.db"
echo "$out" | grep -q "nothing to do"
ok $? "migrate on a current store: nothing to do"

# ---- locked by another writer ----
copy "$base" locked.db
before=$(q "$tmp/locked.db" "SELECT count(*) FROM events")
{ echo "BEGIN IMMEDIATE;"; echo "INSERT INTO meta VALUES ('lock', 'x');"
  sleep 6; echo "ROLLBACK;"; } | sqlite3 "$tmp/locked.db" &
lpid=$!
sleep 1
t0=$(date +%s)
run "$JS" import "$tmp/locked.db" "$data/custom.csv" \
    --map customer=who,time=when,type="'buy'" --time-format '%d.%m.%Y %H:%M'
t1=$(date +%s)
[ $status -eq 1 ] && echo "$err" | grep -qi "locked\|busy"
ok $? "import while another writer holds the lock: exit 1, says locked ($err)"
[ $((t1 - t0)) -le 5 ]
ok $? "it gave up within the busy timeout ($((t1 - t0)) s)"
run "$JS" info "$tmp/locked.db"
ok $status "reading while the lock is held works"
wait $lpid
is "$(q "$tmp/locked.db" "SELECT count(*) FROM events")" "$before" \
    "no event added"
is "$(q "$tmp/locked.db" "PRAGMA integrity_check")" "ok" "integrity ok"

# ---- SIGKILL during training ----
copy "$base" kill.db
run "$JS" model export "$tmp/kill.db" "$tmp/m-before.st"
models0=$(q "$tmp/kill.db" "SELECT group_concat(name) FROM models")
intact=0
for ms in 200 700 1500 2500; do
	"$JS" train "$tmp/kill.db" --epochs 1000 --patience 1000 --dim 16 \
	    --max-len 32 -q \
	    >/dev/null 2>&1 &
	kpid=$!
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
	kill -KILL $kpid 2>/dev/null
	wait $kpid 2>/dev/null
	rm -f "$tmp/m-after.st"
	"$JS" model export "$tmp/kill.db" "$tmp/m-after.st" --model m1 \
	    >/dev/null 2>&1 && cmp -s "$tmp/m-before.st" "$tmp/m-after.st" &&
	    [ "$(q "$tmp/kill.db" "PRAGMA integrity_check")" = ok ] &&
	    [ "$(q "$tmp/kill.db" "SELECT group_concat(name) FROM models")" = \
	    "$models0" ] && intact=$((intact + 1))
done
is $intact 4 "SIGKILL at 0.2, 0.7, 1.5, 2.5 s into training: the models \
as they were, byte for byte, each time"
run "$JS" explain "$tmp/kill.db" C000002
ok $status "the previous model still explains"
run "$JS" train "$tmp/kill.db" --epochs 1 --dim 16 --max-len 32 -q
[ $status -eq 0 ] && [ "$(q "$tmp/kill.db" "SELECT count(*) FROM models")" = 2 ]
ok $? "then the same training succeeds"

# ---- SIGKILL during segment rebuilds ----
# bigger, so that a rebuild takes long enough to be stopped in the middle
run "$JS" sample "$tmp/seg.db" --customers 4000 --seed 2 -q
run "$JS" model init "$tmp/seg.db" --seed 3
run "$JS" score "$tmp/seg.db" -q
run "$JS" segment "$tmp/seg.db" rfm
run "$JS" segment "$tmp/seg.db" clusters -k 3
run "$JS" segment "$tmp/seg.db" bands
segdump() {
	q "$tmp/seg.db" "SELECT s.name, s.kind, s.definition, count(m.customer_id)
FROM segments s LEFT JOIN segment_members m ON m.segment_id = s.id
GROUP BY s.id ORDER BY s.name; SELECT count(*), sum(r * 100 + f * 10 + m)
FROM customer_rfm" | cksum
}
before=$(segdump)
same=0
for what in "clusters -k 5 --seed 7" "rfm --at 2024-06-01" "bands --cuts 0.3,0.6"; do
	for ms in 20 150; do
		# shellcheck disable=SC2086
		"$JS" segment "$tmp/seg.db" $what >/dev/null 2>&1 &
		kpid=$!
		sleep "0.$(printf %03d $ms)"
		kill -KILL $kpid 2>/dev/null
		wait $kpid 2>/dev/null
		if [ "$(segdump)" = "$before" ]; then
			same=$((same + 1))
		else
			# the build had finished: put the segments back
			"$JS" segment "$tmp/seg.db" rfm >/dev/null 2>&1
			"$JS" segment "$tmp/seg.db" clusters -k 3 >/dev/null 2>&1
			"$JS" segment "$tmp/seg.db" bands >/dev/null 2>&1
			diag "$what at $ms ms: had finished"
		fi
	done
done
[ $same -ge 3 ]
ok $? "SIGKILL during segment rebuilds: the segments as they were ($same of 6 \
stopped before the end)"
is "$(q "$tmp/seg.db" "PRAGMA integrity_check")" "ok" "integrity ok"
run "$JS" segment "$tmp/seg.db" clusters -k 5 --seed 7
ok $status "then the rebuild succeeds"

# ---- limits ----
{ printf 'customer,time,type,text\nc1,2024-01-01,view,'; head -c 10485760 /dev/zero |
  tr '\0' 'x'; printf '\n'; } >"$tmp/big.csv"
copy "$base" lim.db
before=$(q "$tmp/lim.db" "SELECT count(*) FROM events")
run "$JS" import "$tmp/lim.db" "$tmp/big.csv" --strict
[ $status -eq 1 ] && echo "$err" | grep -q "MiB"
ok $? "a 10 MB field: refused, naming the limit ($(echo "$err" | head -n 1))"
is "$(q "$tmp/lim.db" "SELECT count(*) FROM events")" "$before" \
    "and nothing imported"
run "$JS" model init "$tmp/lim.db" --dim 4096 --layers 64 --heads 64 \
    --max-len 65536
[ $status -eq 1 ] && echo "$err" | grep -q "limit"
ok $? "a model that would need 49 GiB: refused, naming the limit"
run "$JS" model init "$tmp/lim.db" --dim 8 --max-len 65536 --name long
run "$JS" explain "$tmp/lim.db" C000001 --model long
[ $status -eq 1 ] && echo "$err" | grep -q "GiB limit"
ok $? "a max_len whose attention would need a terabyte: refused, naming \
the limit"

# a store whose customer row claims a billion events: only shown, never
# trusted for sizes; a customer past the history limit: refused by name
copy "$base" claim.db
q "$tmp/claim.db" "UPDATE customers SET n_events = 1000000000 WHERE \
ext_id = 'C000001'" >/dev/null
real=$(q "$tmp/claim.db" "SELECT count(*) FROM events e JOIN customers c ON \
c.id = e.customer_id WHERE c.ext_id = 'C000001'")
"$JS" explain "$tmp/claim.db" C000001 --json >"$tmp/claim.json" 2>&1
want=$((real < 32 ? real : 32))
is "$(sqlite3 -batch :memory: "SELECT json_array_length(CAST(readfile(\
'$tmp/claim.json') AS TEXT), '\$.events')" 2>&1)" "$want" \
    "a customer claiming 1,000,000,000 events: explain's window holds \
$want of its $real real ones (max_len 32)"
big=$(q "$tmp/claim.db" "SELECT id FROM customers WHERE ext_id = 'C000002'")
q "$tmp/claim.db" "INSERT INTO events(customer_id, ts, type_id) WITH \
RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000001) \
SELECT $big, 1700000000 + x, 1 FROM c" >/dev/null
sum=$(cksum <"$tmp/claim.db")
run "$JS" train "$tmp/claim.db" --epochs 1 --dim 16 --max-len 32 -q
[ $status -eq 1 ] && echo "$err" | grep -q "more than 2000000 events"
ok $? "a customer of 2,000,001 events: training refuses, naming the limit \
($(echo "$err" | head -n 1))"
run "$JS" explain "$tmp/claim.db" C000002
[ $status -eq 1 ] && echo "$err" | grep -q "more than 2000000 events"
ok $? "and explain refuses it the same way"
is "$(cksum <"$tmp/claim.db")" "$sum" "the store is untouched"
