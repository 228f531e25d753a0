#!/bin/sh
# t-import.sh: journeyscope import end to end on the fixtures of
# tests/data, one per preset (online-retail I and II, retailrocket,
# cdnow, movielens 100K and 1M, sasrec, clickstream), JSON Lines, gzip,
# --map (constants, A*B, cattr), --delimiter, --time-format, --items,
# --rejects, --strict, importing a file twice, --force, and a file that
# is no store. Counts come from `info --json` and from sqlite3 queries,
# and are exact.

. "${top_srcdir:-.}/tests/lib.sh"
need sqlite3 gzip cmp

plan 90

# imp DB ARGS...: a quiet import; $status, $err
imp() {
	imp_db=$1
	shift
	run "$JS" import -q "$imp_db" "$@"
}
# facts DB PATH...: values of `info DB --json` (see jget)
facts() {
	"$JS" info "$1" --json >"$tmp/info.json" 2>"$tmp/err"
	shift
	jget "$tmp/info.json" "$@"
}
# cust DB ID: "events first last spend purchases items" of a customer
cust() {
	q "$1" "SELECT n_events || ' ' || first_ts || ' ' || last_ts || ' ' ||
	    round(spend, 2) || ' ' || n_purchases || ' ' || n_items
	    FROM customers WHERE ext_id = '$2'"
}
checksum() {
	"$JS" info "$1" --checksum 2>>"$tmp/err"
}
# types DB ID: the customer's event types in time order, then by event id
types() {
	q "$1" "SELECT group_concat(name, ',') FROM (SELECT t.name FROM events e
	    JOIN event_types t ON t.id = e.type_id JOIN customers c
	    ON c.id = e.customer_id WHERE c.ext_id = '$2' ORDER BY e.ts, e.id)"
}

# ---- online-retail (UCI Online Retail I) ----
db=$tmp/retail.db
imp "$db" "$data/online-retail.csv" --preset online-retail
[ $status -eq 0 ] && echo "$err" |
    grep -q 'imported 9 events from 11 rows in 1 file (2 skipped, 0 rejected'
ok $? "online-retail: import, summary line"
is "$(facts "$db" customers events items event_types first last \
    'imports[0].rows' 'imports[0].events' 'imports[0].skipped' \
    'imports[0].rejected' 'imports[0].preset')" \
    "5 9 9 2 2010-12-01T08:26:00Z 2011-01-04T10:00:00Z 11 9 2 0 online-retail" \
    "online-retail: 5 customers, 9 events, 2 rows without customer skipped"
is "$(q "$db" "SELECT group_concat(amount, ' ') FROM (SELECT e.amount
    FROM events e JOIN event_types t ON t.id = e.type_id
    WHERE t.name = 'cancellation' ORDER BY e.id)")" "-27.5 -4.65" \
    "online-retail: C invoices are cancellations with negative amounts"
is "$(cust "$db" 17850)" "3 1291191960 1291192080 46.74 3 3" \
    "online-retail: 17850: 3 purchases, spend quantity x price"
is "$(cust "$db" 15311)" "2 1291196940 1294135200 3.85 1 2" \
    "online-retail: 15311: a cancellation and 1/4/2011 (4 January)"
is "$(q "$db" "SELECT name FROM items WHERE ext_id = '22633'")" \
    "HAND WARMER UNION JACK, RED" "online-retail: a quoted comma"
is "$(q "$db" "SELECT name || ' ' || length(name) || ' ' ||
    hex(substr(name, 29, 1)) FROM items WHERE ext_id = 'GIFT_0001_10'")" \
    "Dotcomgiftshop Gift Voucher £10.00 34 C2A3" \
    "online-retail: £ in UTF-8"
is "$(q "$db" "SELECT attrs FROM customers WHERE ext_id = '12583'")" \
    '{"Country":"France"}' "online-retail: Country kept as a customer \
attribute"
is "$(q "$db" "SELECT json_extract(attrs, '\$.InvoiceNo') || ' ' || line
    FROM events WHERE amount = -27.5")" "C536379 9" \
    "online-retail: the invoice number and the source line kept"

# ---- online-retail (Online Retail II column names) ----
db=$tmp/retail2.db
imp "$db" "$data/online-retail-ii.csv" --preset online-retail
ok $status "online-retail II: import"
is "$(facts "$db" customers events items 'imports[0].skipped' \
    'imports[0].rejected' 'types[0].type' 'types[0].events')" \
    "3 6 6 1 0 purchase 4" \
    "online-retail II: Invoice, Price, Customer ID; 1 row skipped"
is "$(q "$db" "SELECT group_concat(name || '=' || n_events, ' ') FROM
    (SELECT name, n_events FROM event_types ORDER BY name)")" \
    "adjustment=1 cancellation=1 purchase=4" \
    "online-retail II: a cancellation and a negative quantity adjustment"
is "$(cust "$db" 16321)" "2 1259663580 1259668800 -50.25 0 2" \
    "online-retail II: 16321 spent -35.40 - 14.85"
is "$(q "$db" "SELECT group_concat(ext_id, ' ') FROM (SELECT i.ext_id
    FROM events e JOIN items i ON i.id = e.item_id JOIN customers c
    ON c.id = e.customer_id WHERE c.ext_id = '13085' ORDER BY e.ts, e.id)")" \
    "85048 79323P" "online-retail II: equal timestamps keep file order"
is "$(q "$db" "SELECT name FROM items WHERE ext_id = 'TEST001'")" \
    "This is a test product, £0" "online-retail II: quoted comma and £"
is "$(q "$db" "SELECT group_concat(DISTINCT json_extract(attrs,
    '\$.Invoice')) FROM events WHERE line = 5")" "C489449" \
    "online-retail II: Invoice kept"

# ---- retailrocket ----
db=$tmp/rr.db
imp "$db" "$data/retailrocket.csv" --preset retailrocket
ok $status "retailrocket: import"
is "$(facts "$db" customers events items event_types first last)" \
    "7 9 8 3 2015-06-01T21:18:20Z 2015-06-02T05:50:14Z" \
    "retailrocket: 7 visitors, 9 events, 8 items, 3 types"
is "$(q "$db" "SELECT group_concat(ts, ' ') FROM (SELECT ts FROM events
    WHERE line IN (2, 3) ORDER BY line)")" "1433221332 1433224214" \
    "retailrocket: milliseconds to seconds"
is "$(cust "$db" 121688)" "2 1433193500 1433193500 0.0 2 2" \
    "retailrocket: transactions count as purchases"
is "$(q "$db" "SELECT count(*) || ' ' || group_concat(DISTINCT
    json_extract(attrs, '\$.transactionid')) FROM events
    WHERE attrs IS NOT NULL")" "3 4000,11117" \
    "retailrocket: transactionid kept where present"

# ---- cdnow ----
db=$tmp/cdnow.db
imp "$db" "$data/cdnow.txt" --preset cdnow
[ $status -eq 0 ] &&
    echo "$err" | grep -q "cdnow.txt:9: quantity 'one' is not a number"
ok $? "cdnow: import, the bad row named with file and line"
is "$(facts "$db" customers events items 'imports[0].rows' \
    'imports[0].rejected')" "5 9 0 10 1" "cdnow: 5 customers, 9 events, \
1 rejected"
is "$(q "$db" "SELECT group_concat(ext_id, ' ') FROM customers")" \
    "00001 00002 00003 00004 00010" "cdnow: zero-padded ids kept"
is "$(cust "$db" 00003)" "4 852163200 879552000 118.51 4 0" \
    "cdnow: YYYYMMDD dates, dollars summed"
is "$(q "$db" "SELECT round(sum(amount), 2) || ' ' || sum(quantity)
    FROM events")" "287.92 23.0" "cdnow: CRLF and blank runs leave clean \
numbers"

# ---- movielens 100K: u.data (tab) with u.item (Latin-1) ----
db=$tmp/ml100k.db
imp "$db" "$data/ml-100k/u.data" "$data/ml-100k/u.item" --preset movielens
ok $status "movielens 100K: import u.data and u.item"
is "$(facts "$db" customers events items 'types[0].type' \
    'imports[0].source' 'imports[1].events')" \
    "5 6 6 rating $data/ml-100k/u.item 6" \
    "movielens 100K: the catalog first, then 6 ratings"
is "$(q "$db" "SELECT name || ' ' || length(name) || ' ' ||
    hex(substr(name, 4, 1)) FROM items WHERE ext_id = '543'")" \
    "Misérables, Les (1995) 22 C3A9" \
    "movielens 100K: a Latin-1 title stored as UTF-8"
is "$(q "$db" "SELECT category FROM items WHERE ext_id = '302'")" \
    "Crime|Film-Noir|Mystery|Thriller" \
    "movielens 100K: genre flags become the category"
is "$(q "$db" "SELECT json_extract(attrs, '\$.rating') FROM events
    WHERE line = 6")" 4 "movielens 100K: the rating kept"
is "$(q "$db" "SELECT group_concat(ext_id, ' ') FROM (SELECT i.ext_id
    FROM events e JOIN items i ON i.id = e.item_id JOIN customers c
    ON c.id = e.customer_id WHERE c.ext_id = '196' ORDER BY e.ts, e.id)")" \
    "242 302" "movielens 100K: equal timestamps keep file order"

# ---- movielens 1M: ratings.dat (::) with movies.dat ----
db=$tmp/ml1m.db
imp "$db" "$data/ml-1m/movies.dat" "$data/ml-1m/ratings.dat" \
    --preset movielens
ok $status "movielens 1M: import ratings.dat and movies.dat"
is "$(facts "$db" customers events items)" "2 5 4" \
    "movielens 1M: 2 users, 5 ratings, 4 movies"
is "$(q "$db" "SELECT name || ' / ' || category FROM items
    WHERE ext_id IN ('2', '661') ORDER BY ext_id")" \
    "Café au lait (1993) / Comedy
James and the Giant Peach (1996) / Animation|Children's|Musical" \
    "movielens 1M: titles as UTF-8, genres as category"
is "$(cust "$db" 1)" "3 978300760 978302109 0.0 0 3" \
    "movielens 1M: user 1"

# ---- sasrec ----
db=$tmp/sasrec.db
imp "$db" "$data/sasrec.txt" --preset sasrec
ok $status "sasrec: import"
is "$(facts "$db" customers events items time_kind first)" \
    "3 7 6 sequence null" "sasrec: the store says its times are a sequence"
is "$(q "$db" "SELECT group_concat(ts, ' ') FROM (SELECT ts FROM events
    ORDER BY id)")" "1 2 3 4 5 6 7" "sasrec: line order as time"
is "$(cust "$db" 1)" "4 1 7 0.0 0 4" "sasrec: user 1 from line 1 to 7"
"$JS" info "$db" >"$tmp/out" 2>"$tmp/err"
grep -q 'without real timestamps' "$tmp/out"
ok $? "sasrec: info says there are no real timestamps"
sum=$(checksum "$db")
imp "$db" "$data/clickstream.csv" --preset clickstream
[ $status -eq 1 ] && echo "$err" | grep -q 'sequence' &&
    [ "$(checksum "$db")" = "$sum" ]
ok $? "sasrec: real times are refused in a sequence store, unchanged"

# ---- clickstream ----
db=$tmp/click.db
imp "$db" "$data/clickstream.csv" --preset clickstream
ok $status "clickstream: import"
is "$(facts "$db" customers events event_types first last)" \
    "3 7 5 2024-03-13T10:21:14Z 2024-03-15T08:00:00Z" \
    "clickstream: 3 users, 7 events of 5 types"
is "$(types "$db" user_0000)" "home,product_view,add_to_cart,purchase" \
    "clickstream: equal timestamps keep file order"
is "$(q "$db" "SELECT group_concat(coalesce(json_extract(attrs,
    '\$.acquisition_channel'), '-') || '/' || json_extract(attrs,
    '\$.user_cohort'), ' ') FROM customers")" \
    "email/2024-01 organic/2024-02 -/2024-03" \
    "clickstream: customer attributes, an empty one left out"
is "$(q "$db" "SELECT attrs FROM events WHERE line = 5")" \
    '{"session_id":"sess_000002","platform":"mobile",'\
'"user_lifecycle":"returning"}' \
    "clickstream: other columns kept as event attributes"
is "$(cust "$db" user_0000)" "4 1710325274 1710406800 0.0 1 0" \
    "clickstream: user_0000"
sum_click=$(checksum "$db")

# ---- the same file again, --force, another name for the same bytes ----
imp "$db" "$data/clickstream.csv" --preset clickstream
[ $status -eq 0 ] &&
    echo "$err" | grep -q 'clickstream.csv: already imported' &&
    [ "$(checksum "$db")" = "$sum_click" ] &&
    [ "$(q "$db" "SELECT count(*) FROM imports")" = 1 ]
ok $? "the same file again: said and skipped, store unchanged"
cp "$data/clickstream.csv" "$tmp/renamed.csv"
imp "$db" "$tmp/renamed.csv" --preset clickstream
[ $status -eq 0 ] && echo "$err" | grep -q 'already imported' &&
    [ "$(q "$db" "SELECT count(*) FROM events")" = 7 ]
ok $? "the same bytes under another name: skipped"
imp "$db" "$data/clickstream.csv" --preset clickstream --force
[ $status -eq 0 ] && [ "$(q "$db" "SELECT count(*) FROM events")" = 14 ] &&
    [ "$(q "$db" "SELECT count(*) FROM imports")" = 2 ]
ok $? "--force imports it again"
is "$(cust "$db" user_0000)" "8 1710325274 1710406800 0.0 2 0" \
    "--force: aggregates doubled"

# ---- gzip ----
gzip -c "$data/clickstream.csv" >"$tmp/click.csv.gz"
imp "$tmp/gz.db" "$tmp/click.csv.gz" --preset clickstream
[ $status -eq 0 ] && [ "$(checksum "$tmp/gz.db")" = "$sum_click" ]
ok $? "a gzip-compressed CSV gives the same store as the plain file"
gzip -c "$data/events.jsonl" >"$tmp/events.jsonl.gz"
imp "$tmp/gzj.db" "$tmp/events.jsonl.gz"
is "$status $(facts "$tmp/gzj.db" events 'imports[0].rejected')" "0 3 3" \
    "a gzip-compressed JSON Lines file"

# ---- JSON Lines ----
db=$tmp/jsonl.db
imp "$db" "$data/events.jsonl"
[ $status -eq 0 ] &&
    echo "$err" | grep -q 'events.jsonl:5: no customer id' &&
    echo "$err" | grep -q 'events.jsonl:6: a JSON line must hold an object' &&
    echo "$err" | grep -q "events.jsonl:7: unrecognised timestamp 'not a time'"
ok $? "JSON Lines: bad lines named with their line numbers"
is "$(facts "$db" customers events 'imports[0].rows' 'imports[0].rejected')" \
    "2 3 6 3" "JSON Lines: 3 events, 3 rejected, the blank line not a row"
is "$(cust "$db" c1)" "2 1704103200 1704110400 19.99 1 1" \
    "JSON Lines: ISO and Unix times, numbers as amounts"
is "$(q "$db" "SELECT group_concat(attrs, ' ') FROM (SELECT attrs FROM
    events WHERE attrs IS NOT NULL ORDER BY id)")" \
    '{"extra":"true"} {"meta":"{\"ref\":\"ad\"}"}' \
    "JSON Lines: other keys kept: a boolean, a nested object"
is "$(q "$db" "SELECT price FROM items WHERE ext_id = 'sku-1'")" 19.99 \
    "JSON Lines: the item's price"

# ---- --items ----
db=$tmp/items.db
imp "$db" "$data/events.jsonl" --items "$data/items.csv"
ok $status "--items: a catalog with the events"
is "$(q "$db" "SELECT group_concat(ext_id || '=' || name || '/' || category
    || '/' || price, ' ') FROM (SELECT * FROM items ORDER BY ext_id)")" \
    "sku-1=Blue mug/kitchen/19.99 sku-2=Red mug/kitchen/1299.0" \
    "--items: names, categories and prices"

# ---- --map, --delimiter, --time-format ----
db=$tmp/map.db
map="customer=who,time=when,type='order',amount=qty*unit"
map="$map,cattr.area=region,text=note"
imp "$db" "$data/custom.csv" --delimiter ';' --time-format '%d.%m.%Y %H:%M' \
    --map "$map"
ok $status "--map with --delimiter ';' and --time-format"
is "$(facts "$db" customers events 'types[0].type' first)" \
    "2 3 order 2023-03-01T12:34:00Z" \
    "--map: a constant type, times by --time-format"
is "$(cust "$db" k1) | $(cust "$db" k2)" \
    "2 1677674040 1677744000 19.5 2 0 | 1 1678924740 1678924740 3000.0 1 0" \
    "--map: amount = qty x unit (1,000.00 read as 1000)"
is "$(q "$db" "SELECT group_concat(attrs, ' ') FROM customers")" \
    '{"area":"north"} {"area":"south"}' "--map: cattr.area from region"
is "$(q "$db" "SELECT group_concat(coalesce(text, '-'), ' ') FROM events")" \
    "first - x" "--map: text from note"
imp "$tmp/map2.db" "$data/custom.csv" --delimiter ';' --map "$map"
is "$status $(facts "$tmp/map2.db" events 'imports[0].rejected')" "0 0 3" \
    "without --time-format the dates are rejected"
imp "$tmp/map3.db" "$data/custom.csv" --map "$map"
[ $status -eq 1 ] && echo "$err" | grep -q "no column 'who'"
ok $? "without --delimiter the columns are not found, said so"
imp "$tmp/map4.db" "$data/custom.csv" -d ';' -t '%d.%m.%Y %H:%M' \
    --map "customer=who,time=when,type=signup,channel=web"
is "$status $(q "$tmp/map4.db" "SELECT group_concat(DISTINCT t.name || '/' ||
    e.channel) FROM events e JOIN event_types t ON t.id = e.type_id")" \
    "0 signup/web" "--map: bare names that are no column are constants"

# ---- bad rows, --rejects ----
db=$tmp/bad.db
imp "$db" "$data/bad.csv" --rejects "$tmp/rejects.csv"
[ $status -eq 0 ] &&
    echo "$err" | grep -q "bad.csv:3: unrecognised timestamp '2024-02-30" &&
    echo "$err" | grep -q "bad.csv:4: amount 'ten' is not a number" &&
    echo "$err" | grep -q "bad.csv:5: no customer id" &&
    echo "$err" | grep -q "bad.csv:6: no event type"
ok $? "bad rows: each named with file, line and reason"
is "$(facts "$db" events 'imports[0].rows' 'imports[0].rejected')" "2 6 4" \
    "bad rows: 2 events, 4 rejected"
sed -n 3,6p "$data/bad.csv" >"$tmp/want"
cmp -s "$tmp/rejects.csv" "$tmp/want"
ok $? "--rejects: the rejected rows as they were in the file"
imp "$tmp/unclosed.db" "$data/unclosed.csv" --rejects "$tmp/rej2.csv"
[ $status -eq 0 ] &&
    echo "$err" | grep -q 'unclosed.csv:3: quoted field not closed' &&
    [ "$(facts "$tmp/unclosed.db" events 'imports[0].rejected')" = "1 1" ]
ok $? "an unclosed quote: the rest of the file is one rejected row"
sed -n 3,4p "$data/unclosed.csv" >"$tmp/want"
cmp -s "$tmp/rej2.csv" "$tmp/want"
ok $? "--rejects: the unclosed record as it was"

# ---- --strict ----
db=$tmp/click.db
sum=$(checksum "$db")
imp "$db" "$data/bad.csv" --strict
[ $status -eq 1 ] && echo "$err" | grep -q -- '--strict: .*bad.csv:3:' &&
    echo "$err" | grep -q 'imported nothing'
ok $? "--strict: the first bad row aborts, named"
[ "$(checksum "$db")" = "$sum" ] &&
    [ "$(q "$db" "SELECT count(*) FROM imports")" = 2 ]
ok $? "--strict: the store checksum is unchanged, no import recorded"
imp "$tmp/strict2.db" "$data/retailrocket.csv" "$data/bad.csv" --strict
[ $status -eq 1 ] &&
    [ "$(q "$tmp/strict2.db" "SELECT count(*) FROM events")" = 0 ]
ok $? "--strict over two files: the good file is not imported either"
imp "$tmp/strict3.db" "$data/retailrocket.csv" --strict
is "$status $(facts "$tmp/strict3.db" events)" "0 9" \
    "--strict on a clean file imports it"

# ---- not a store ----
cp "$data/clickstream.csv" "$tmp/not-a-store.db"
imp "$tmp/not-a-store.db" "$data/retailrocket.csv" --preset retailrocket
[ $status -eq 1 ] &&
    echo "$err" | grep -q 'not-a-store.db: not a journeyscope store'
ok $? "a CSV file as the store: a clear error"
cmp -s "$tmp/not-a-store.db" "$data/clickstream.csv" &&
    [ ! -e "$tmp/not-a-store.db-journal" ] && [ ! -e "$tmp/not-a-store.db-wal" ]
ok $? "the file given as store is untouched"
run "$JS" info "$tmp/not-a-store.db"
[ $status -eq 1 ] && grep -q 'not a journeyscope store' "$tmp/err"
ok $? "info on it: the same error"
sqlite3 "$tmp/foreign.db" "CREATE TABLE t(x); INSERT INTO t VALUES (1)"
imp "$tmp/foreign.db" "$data/retailrocket.csv" --preset retailrocket
[ $status -eq 1 ] && echo "$err" | grep -q 'not a journeyscope store' &&
    [ "$(q "$tmp/foreign.db" "SELECT count(*) FROM sqlite_master")" = 1 ]
ok $? "another program's SQLite database: refused, untouched"

# ---- missing input ----
imp "$tmp/missing.db" "$tmp/no-such-file.csv"
[ $status -eq 1 ] && echo "$err" | grep -q 'no-such-file.csv: No such file'
ok $? "a missing input file: exit 1, named"

# ---- a locale that writes numbers as 1,5 ----
loc=
for l in $(locale -a 2>/dev/null); do
	if [ "$(LC_ALL=$l locale decimal_point 2>/dev/null)" = "," ]; then
		loc=$l
		break
	fi
done
locpath=${LOCPATH:-}
if [ -z "$loc" ] && mkdir "$tmp/loc" && localedef -i de_DE -f UTF-8 \
    "$tmp/loc/de_DE.UTF-8" >/dev/null 2>&1; then
	loc=de_DE.UTF-8
	locpath=$tmp/loc
fi
if [ -n "$loc" ]; then
	LOCPATH=$locpath LC_ALL=$loc "$JS" import -q "$tmp/loc.db" \
	    "$data/cdnow.txt" --preset cdnow >"$tmp/out" 2>"$tmp/err"
	is "$(q "$tmp/loc.db" "SELECT count(*) || ' ' || round(sum(amount), 2)
	    FROM events")" "9 287.92" \
	    "in the $loc locale 11.77 is still a number"
	LOCPATH=$locpath LC_ALL=$loc "$JS" info "$tmp/loc.db" --json \
	    >"$tmp/info.json" 2>"$tmp/err"
	is "$(q :memory: "SELECT json_valid(CAST(readfile('$tmp/info.json') AS
	    TEXT))")" 1 "in the $loc locale info --json is valid JSON"
else
	skip "no locale with a decimal comma here"
	skip "no locale with a decimal comma here"
fi

# ---- the store is a plain SQLite file ----
db=$tmp/retail.db
is "$(q "$db" "PRAGMA integrity_check")" ok "integrity_check after imports"
is "$(q "$db" "PRAGMA foreign_key_check")" "" "foreign keys hold"
is "$(q "$db" "SELECT count(*) FROM customers c WHERE n_events != (SELECT
    count(*) FROM events WHERE customer_id = c.id) OR n_items != (SELECT
    count(DISTINCT item_id) FROM events WHERE customer_id = c.id) OR
    first_ts != (SELECT min(ts) FROM events WHERE customer_id = c.id) OR
    last_ts != (SELECT max(ts) FROM events WHERE customer_id = c.id) OR
    abs(spend - (SELECT coalesce(sum(amount), 0) FROM events
    WHERE customer_id = c.id)) > 1e-9")" 0 \
    "aggregates agree with the events"
is "$(q "$tmp/click.db" "SELECT count(*) FROM customers c WHERE n_events !=
    (SELECT count(*) FROM events WHERE customer_id = c.id) OR n_purchases
    != (SELECT count(*) FROM events e JOIN event_types t ON t.id = e.type_id
    WHERE customer_id = c.id AND t.is_purchase)")" 0 \
    "aggregates agree after a forced second import"
"$JS" customers "$tmp/retail.db" --sort spend >"$tmp/out" 2>"$tmp/err"
is "$(sed 1d "$tmp/out" | awk '{ print $1 }' | tr '\n' ' ')" \
    "12583 13047 17850 15311 14527 " "customers --sort spend"
