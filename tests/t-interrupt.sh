#!/bin/sh
# t-interrupt.sh: an import stopped at any moment leaves the store as it
# was. A 300,000-row CSV goes into a store that already holds a small
# import; the import is killed (SIGKILL) right away, at fractions of the
# time a whole import takes here, and while it writes its commit, and
# stopped once by SIGINT and once by SIGTERM. Each time the store's
# checksum is the one from before, sqlite3's integrity_check says ok, and
# the same import then succeeds with the exact counts (or, killed after
# its commit while the program closes the store, all of the import is
# in). Last, a killed import into a new store leaves an empty store with
# all its indexes.

. "${top_srcdir:-.}/tests/lib.sh"
need sqlite3 awk

rows=300000
customers=20000
plan $((3 + 3 * 9 + 3))

# The big file: generic columns, 20,000 customers, Unix seconds.
awk -v n=$rows -v c=$customers 'BEGIN {
	print "customer,time,type,item,amount"
	for (i = 0; i < n; i++)
		printf "C%05d,%d,%s,SKU%d,%s\n", (i * 7919) % c,
		    1704067200 + i * 61, i % 4 ? "view" : "purchase",
		    i % 997, i % 4 ? "" : (i % 50) ".25"
}' >"$tmp/big.csv"

imp() {
	run "$JS" import -q "$@"
}
checksum() {
	"$JS" info "$1" --checksum 2>>"$tmp/err"
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
# a copy of the base store in t.db
fresh() {
	rm -f "$tmp"/t.db*
	for f in "$tmp"/base.db*; do
		cp "$f" "$tmp/t.db${f#"$tmp"/base.db}"
	done
}

imp "$tmp/base.db" "$data/clickstream.csv" --preset clickstream
ok $status "a store with a small import"
before=$(checksum "$tmp/base.db")

fresh
t0=$(now_ms)
imp "$tmp/t.db" "$tmp/big.csv"
t1=$(now_ms)
full=$((t1 - t0))
diag "a whole import of $rows rows takes $full ms here"
is "$status $(q "$tmp/t.db" "SELECT count(*) FROM events")" \
    "0 $((rows + 7))" "the whole import, uninterrupted"
after=$(checksum "$tmp/t.db")
[ -n "$before" ] && [ -n "$after" ] && [ "$before" != "$after" ]
ok $? "the checksum sees the import ($before, then $after)"

# check DESC: the store after a stopped import, then the import again
check() {
	sum=$(checksum "$tmp/t.db")
	n=$(q "$tmp/t.db" "SELECT count(*) FROM imports")
	if [ "$sum $n" = "$after 2" ]; then
		# killed after its COMMIT, while closing: all of it is in
		ok 0 "$1: the import had committed, all of it is in"
		is "$(q "$tmp/t.db" "PRAGMA integrity_check")" ok \
		    "$1: integrity_check ok"
		imp "$tmp/t.db" "$tmp/big.csv"
		[ $status -eq 0 ] && grep -q 'already imported' "$tmp/err" &&
		    [ "$(checksum "$tmp/t.db")" = "$after" ]
		ok $? "$1: the same import is then skipped as done"
		return
	fi
	is "$sum $n" "$before 1" "$1: the checksum is as before, no import \
recorded"
	is "$(q "$tmp/t.db" "PRAGMA integrity_check")" ok \
	    "$1: integrity_check ok"
	imp "$tmp/t.db" "$tmp/big.csv"
	is "$status $(q "$tmp/t.db" "SELECT count(*) || ' ' || (SELECT count(*)
	    FROM customers) || ' ' || (SELECT count(*) FROM imports) FROM
	    events")" "0 $((rows + 7)) $((customers + 3)) 2" \
	    "$1: then the same import succeeds"
}

# stop SIGNAL MS DESC: signal the import after MS milliseconds; when
# it finished first (it ran faster than the timed one), again up to 4
# times, each 8% of the whole import's time earlier
stop() {
	ms=$2 try=1
	while :; do
		fresh
		"$JS" import -q "$tmp/t.db" "$tmp/big.csv" 2>"$tmp/kerr" &
		pid=$!
		[ "$ms" -gt 0 ] && sleep_ms "$ms"
		kill -"$1" $pid 2>/dev/null
		wait $pid 2>/dev/null
		st=$?
		[ $st -ne 0 ] && break
		if [ $try -ge 5 ] || [ "$ms" -eq 0 ]; then
			skip "$3: the import had finished, $try tries"
			skip "$3: the import had finished"
			skip "$3: the import had finished"
			return
		fi
		ms=$((ms - full * 8 / 100))
		[ "$ms" -lt 0 ] && ms=0
		try=$((try + 1))
	done
	diag "$3: exit status $st after $ms ms (try $try)"
	check "$3"
}

stop KILL 0 "SIGKILL right away"
for pct in 10 30 50 70 85; do
	stop KILL $((full * pct / 100)) "SIGKILL after $pct% of the time"
done

# SIGKILL while the commit writes the store (the file starts growing)
tries=0
while :; do
	fresh
	size0=$(wc -c <"$tmp/t.db")
	"$JS" import -q "$tmp/t.db" "$tmp/big.csv" 2>"$tmp/kerr" &
	pid=$!
	while kill -0 $pid 2>/dev/null &&
	    [ "$(wc -c <"$tmp/t.db")" -eq "$size0" ]; do
		:
	done
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	st=$?
	tries=$((tries + 1))
	[ $st -ne 0 ] || [ $tries -ge 5 ] && break
done
if [ $st -eq 0 ]; then
	skip "SIGKILL during the commit: finished first, $tries tries"
	skip "SIGKILL during the commit: finished first"
	skip "SIGKILL during the commit: finished first"
else
	diag "killed during the commit at try $tries"
	check "SIGKILL during the commit"
fi

# SIGINT and SIGTERM: a clean stop with a message
for sig in INT TERM; do
	fresh
	"$JS" import -q "$tmp/t.db" "$tmp/big.csv" 2>"$tmp/kerr" &
	pid=$!
	sleep_ms $((full * 40 / 100))
	kill -$sig $pid
	wait $pid 2>/dev/null
	st=$?
	if [ $st -eq 0 ]; then
		skip "SIG$sig: the import had finished"
		skip "SIG$sig: the import had finished"
		skip "SIG$sig: the import had finished"
		continue
	fi
	cp "$tmp/kerr" "$tmp/err"
	sum=$(checksum "$tmp/t.db")
	[ $st -eq 1 ] && grep -q 'interrupted; the store is unchanged' \
	    "$tmp/kerr" && [ "$sum" = "$before" ]
	ok $? "SIG$sig: exit 1, 'interrupted', the checksum as before"
	is "$(q "$tmp/t.db" "PRAGMA integrity_check")" ok \
	    "SIG$sig: integrity_check ok"
	imp "$tmp/t.db" "$tmp/big.csv"
	is "$status $(q "$tmp/t.db" "SELECT count(*) FROM events")" \
	    "0 $((rows + 7))" "SIG$sig: then the same import succeeds"
done

# a new store: killed halfway, it is an empty store with its indexes
rm -f "$tmp"/new.db*
"$JS" import -q "$tmp/new.db" "$tmp/big.csv" 2>"$tmp/kerr" &
pid=$!
sleep_ms $((full / 2))
kill -KILL $pid 2>/dev/null
wait $pid 2>/dev/null
if [ $? -eq 0 ]; then
	skip "new store: the import had finished"
	skip "new store: the import had finished"
else
	is "$(q "$tmp/new.db" "SELECT (SELECT count(*) FROM events) || ' ' ||
	    (SELECT count(*) FROM customers) || ' ' || (SELECT count(*) FROM
	    imports) || ' ' || (SELECT count(*) FROM sqlite_master WHERE
	    name = 'events_customer_ts')")" "0 0 0 1" \
	    "new store killed halfway: empty, the events index still there"
	is "$(q "$tmp/new.db" "PRAGMA integrity_check")" ok \
	    "new store killed halfway: integrity_check ok"
fi
imp "$tmp/new.db" "$tmp/big.csv"
is "$status $(q "$tmp/new.db" "SELECT count(*) FROM events")" "0 $rows" \
    "new store: then the import succeeds"
