#!/bin/sh
# t-segment-cli.sh: segments, BG/NBD and triggers end to end, on a
# sampled store of 800 customers (seed 11) with a model of 6 epochs
# (seed 1) and its scores. segment rfm: the grid it prints is the
# table's, every customer is in exactly one RFM segment and the one of
# its cell in the standard map; a broken --rules file is refused naming
# the file and changes nothing; --print-rules round-trips through
# --rules, an edited copy is used. bands and clusters partition the
# scored customers (each in the band of its score); a filter holds what
# the same condition in SQL selects, a bad one exits 2 with a caret
# under the column; drop. bgnbd: one row per customer with a purchase,
# x, t_x and T from the purchase days; bgnbd --summary on a small CSV:
# the printed log-likelihood is eq. (6) at the printed parameters
# (computed here in awk) and a maximum, whatever the column order; its
# errors. triggers --json: the customers and outcomes are SQL's, every
# planted churn rule (tickets_unresolved, shipping_abandon,
# refund_bad_review) ranks above every decoy (email_open, ad_click,
# search, coupon_use) and is marked a trigger; one customer whose only
# planted rule is a fired tickets_unresolved; a segment; the errors.
# JSON is read with sqlite3's json functions.

. "${top_srcdir:-.}/tests/lib.sh"
need sqlite3 awk cmp

plan 66

db=$tmp/s.db
# jq1 FILE SQL-EXPR: one value computed from the JSON text j of FILE
jq1() {
	q :memory: "SELECT $2 FROM (SELECT CAST(readfile('$1') AS TEXT) AS j)"
}
# members KIND: "customer_id segment" of every member of kind's segments
members() {
	q "$db" "SELECT group_concat(m.customer_id || ':' || g.name, ' ')
	    FROM (SELECT * FROM segment_members ORDER BY customer_id,
	    segment_id) m JOIN segments g ON g.id = m.segment_id
	    WHERE g.kind = '$1'"
}
# partition KIND: "members distinct scored strangers" of kind's segments
partition() {
	q "$db" "SELECT count(*) || ' ' || count(DISTINCT m.customer_id) ||
	    ' ' || (SELECT count(*) FROM scores WHERE model_id = (SELECT
	    max(id) FROM models)) || ' ' || sum(m.customer_id NOT IN (SELECT
	    customer_id FROM scores WHERE model_id = (SELECT max(id) FROM
	    models))) FROM segment_members m JOIN segments g ON
	    g.id = m.segment_id WHERE g.kind = '$1'"
}

run "$JS" sample "$db" --customers 800 --seed 11 -q
[ $status -eq 0 ] || bail "sample: $err"
start=$(date +%s)
run "$JS" train "$db" --epochs 6 --seed 1 --threads 2 -q
[ $status -eq 0 ] || bail "train: $err"
diag "6 epochs of training took $(($(date +%s) - start)) s"
run "$JS" score "$db" -q
[ $status -eq 0 ] || bail "score: $err"
active=$(q "$db" "SELECT count(*) FROM customers WHERE n_events > 0")

# ---- RFM ----
run "$JS" segment "$db" rfm
echo "$out" >"$tmp/rfm.out"
[ $status -eq 0 ] && echo "$out" | grep -q "^RFM: $active customers scored$" &&
    echo "$out" | grep -q '^R \\ F  *1  *2  *3  *4  *5$'
ok $? "segment rfm: all $active customers scored, the grid's header"
grid=$(echo "$out" | awk '/^R \\ F/ { on = 1; next }
    on && NF == 6 { printf "%s%s %s %s %s %s %s", sep, $1, $2, $3, $4, $5, $6
	sep = "|" } on && NF != 6 { exit }')
want=$(q "$db" "WITH RECURSIVE k(v) AS (SELECT 1 UNION ALL SELECT v + 1
    FROM k WHERE v < 5) SELECT group_concat(line, '|') FROM (SELECT
    r.v || ' ' || (SELECT group_concat(n, ' ') FROM (SELECT (SELECT
    count(*) FROM customer_rfm x WHERE x.r = r.v AND x.f = f.v) AS n FROM
    k f ORDER BY f.v)) AS line FROM k r ORDER BY r.v DESC)")
is "$grid" "$want" "the printed grid is customer_rfm's count per cell"
is "$(echo "$out" | grep -c '^  r [1-5] f [1-5]  ')" 25 \
    "25 cells listed with their segment"
is "$(q "$db" "SELECT count(*) || ' ' || count(DISTINCT m.customer_id) ||
    ' ' || (SELECT count(*) FROM (SELECT customer_id FROM segment_members
    m2 JOIN segments g2 ON g2.id = m2.segment_id WHERE g2.kind = 'rfm'
    GROUP BY customer_id HAVING count(*) != 1)) FROM segment_members m
    JOIN segments g ON g.id = m.segment_id WHERE g.kind = 'rfm'")" \
    "$active $active 0" "every customer in exactly one RFM segment"
# the standard map, written out here
is "$(q "$db" "SELECT count(*) FROM segment_members m JOIN segments g ON
    g.id = m.segment_id JOIN customer_rfm x ON x.customer_id =
    m.customer_id WHERE g.kind = 'rfm' AND g.name != CASE
    WHEN x.r = 5 AND x.f >= 4 THEN 'Champions'
    WHEN x.r IN (3, 4) AND x.f >= 4 THEN 'Loyal Customers'
    WHEN x.r >= 4 AND x.f IN (2, 3) THEN 'Potential Loyalists'
    WHEN x.r = 5 AND x.f = 1 THEN 'New Customers'
    WHEN x.r = 4 AND x.f = 1 THEN 'Promising'
    WHEN x.r = 3 AND x.f = 3 THEN 'Need Attention'
    WHEN x.r = 3 AND x.f <= 2 THEN 'About to Sleep'
    WHEN x.r <= 2 AND x.f = 5 THEN 'Can''t Lose Them'
    WHEN x.r <= 2 AND x.f IN (3, 4) THEN 'At Risk'
    ELSE 'Hibernating' END")" 0 \
    "each customer in the standard map's segment of its cell"
is "$(q "$db" "SELECT count(*) FROM segments WHERE kind = 'rfm'")" 10 \
    "10 RFM segments"
# F = purchase events, M = spend, R = days since the last event
is "$(q "$db" "SELECT count(*) FROM customer_rfm x JOIN customers c ON
    c.id = x.customer_id WHERE x.frequency != c.n_purchases OR
    abs(x.monetary - c.spend) > 1e-9 OR abs(x.recency - ((SELECT
    max(last_ts) FROM customers) - c.last_ts) / 86400.0) > 1e-9")" 0 \
    "customer_rfm: recency in days, purchases, spend of every customer"
before=$(members rfm)

printf '[{"name": "A", "r": [1, 5], "f": [1, 5]}, oops]' >"$tmp/broken.json"
run "$JS" segment "$db" rfm --rules "$tmp/broken.json"
[ $status -eq 1 ] &&
    echo "$err" | grep -q "$tmp/broken.json: expected a JSON array"
ok $? "--rules with broken JSON: exit 1, the message names the file"
printf '[{"name": "A", "r": [1, 5], "f": [1, 4]}]' >"$tmp/hole.json"
run "$JS" segment "$db" rfm --rules "$tmp/hole.json"
[ $status -eq 1 ] && echo "$err" |
    grep -q "$tmp/hole.json: 5 of the 25 cells match no rule: (r 1, f 5)"
ok $? "--rules leaving f 5 uncovered: exit 1, the file and the cells"
run "$JS" segment "$db" rfm --rules "$tmp/none.json"
[ $status -eq 1 ] && echo "$err" | grep -q "$tmp/none.json"
ok $? "--rules with a missing file: exit 1, the message names it"
is "$(members rfm)" "$before" "the refused rules changed no segment"

run "$JS" segment --print-rules
echo "$out" >"$tmp/rules.json"
[ $status -eq 0 ] && [ "$(jq1 "$tmp/rules.json" "json_valid(j) || ' ' ||
    json_array_length(j) || ' ' || json_extract(j, '\$[0].name') || ' ' ||
    json_extract(j, '\$[9].name')")" = "1 10 Champions Hibernating" ]
ok $? "--print-rules: a JSON array of the 10 rules, Champions first"
run "$JS" segment "$db" rfm --rules "$tmp/rules.json"
echo "$out" >"$tmp/rfm2.out"
[ $status -eq 0 ] && cmp -s "$tmp/rfm.out" "$tmp/rfm2.out" &&
    [ "$(members rfm)" = "$before" ]
ok $? "the printed rules through --rules: the same output and segments"
sed 's/"Champions"/"Stars"/' "$tmp/rules.json" >"$tmp/stars.json"
run "$JS" segment "$db" rfm --rules "$tmp/stars.json"
is "$(q "$db" "SELECT count(*) FROM segments WHERE name = 'Stars'") \
$(q "$db" "SELECT count(*) FROM segments WHERE name = 'Champions'") \
$(q "$db" "SELECT count(*) FROM customer_rfm WHERE segment = 'Stars'")" \
    "1 0 $(q "$db" "SELECT count(*) FROM customer_rfm WHERE r = 5 AND
    f >= 4")" \
    "an edited copy is used: Stars replaces Champions"
run "$JS" segment "$db" rfm -q
[ $status -eq 2 ]
ok $? "segment rfm with an unknown option: exit 2"
run "$JS" segment "$db" rfm -k 3
[ $status -eq 2 ] && echo "$err" | grep -q -- "--k does not apply"
ok $? "segment rfm -k 3: exit 2, -k does not apply"
run "$JS" segment "$db" bogus
[ $status -eq 2 ] && echo "$err" | grep -q "unknown action 'bogus'"
ok $? "an unknown action: exit 2"
"$JS" segment "$db" rfm >/dev/null 2>&1

# ---- bands and clusters ----
scored=$(q "$db" "SELECT count(*) FROM scores WHERE model_id = (SELECT
    max(id) FROM models)")
run "$JS" segment "$db" bands
[ $status -eq 0 ] &&
    echo "$out" | grep -q "^bands: $scored customers in 4 churn-risk bands$"
ok $? "segment bands: the $scored scored customers in 4 bands"
is "$(partition band)" "$scored $scored $scored 0" \
    "the bands partition the scored customers"
is "$(q "$db" "SELECT count(*) FROM segment_members m JOIN segments g ON
    g.id = m.segment_id JOIN scores s ON s.customer_id = m.customer_id AND
    s.model_id = json_extract(g.definition, '\$.model_id') WHERE g.kind =
    'band' AND NOT (s.churn >= json_extract(g.definition, '\$.churn[0]')
    AND (s.churn < json_extract(g.definition, '\$.churn[1]') OR
    json_extract(g.definition, '\$.churn[1]') = 1))")" 0 \
    "each customer in the band of its score"
is "$(q "$db" "SELECT group_concat(name, ',') FROM (SELECT name FROM
    segments WHERE kind = 'band' ORDER BY name)")" \
    "risk 0.00-0.20,risk 0.20-0.50,risk 0.50-0.80,risk 0.80-1.00" \
    "the bands' names"
run "$JS" segment "$db" bands --cuts 0.3,0.7
[ $status -eq 0 ] && [ "$(q "$db" "SELECT count(*) FROM segments WHERE
    kind = 'band'")" = 3 ] &&
    [ "$(partition band)" = "$scored $scored $scored 0" ]
ok $? "--cuts 0.3,0.7: three bands replace the four"
run "$JS" segment "$db" bands --cuts 0.7,0.3
[ $status -eq 2 ]
ok $? "--cuts 0.7,0.3: exit 2"
run "$JS" segment "$db" bands --cuts 0.3,x
[ $status -eq 2 ] && echo "$err" | grep -q -- "--cuts 0.3,x"
ok $? "--cuts 0.3,x: exit 2, naming it"

run "$JS" segment "$db" clusters -k 4 --seed 1
[ $status -eq 0 ] &&
    echo "$out" | grep -q "^clusters: $active customers in 4 clusters"
ok $? "segment clusters -k 4: $active customers in 4 clusters"
is "$(partition cluster)" "$scored $scored $scored 0" \
    "the clusters partition the scored customers"
is "$(q "$db" "SELECT sum(json_extract(definition, '\$.customers')) || ' ' ||
    min(json_extract(definition, '\$.k')) || ' ' || sum(json_extract(
    definition, '\$.customers') = (SELECT count(*) FROM segment_members m
    WHERE m.segment_id = segments.id)) FROM segments WHERE kind =
    'cluster'")" "$active 4 4" \
    "each cluster's definition counts its members"
first=$(members cluster)
run "$JS" segment "$db" clusters -k 4 --seed 1
is "$(members cluster)" "$first" "the same seed: the same clusters"
run "$JS" segment "$db" clusters -k 1
[ $status -eq 2 ] && [ "$(members cluster)" = "$first" ]
ok $? "-k 1: exit 2, the clusters as they were"

# ---- filters ----
last=$(q "$db" "SELECT max(last_ts) FROM customers")
run "$JS" segment "$db" filter big 'spend > 100 and last_seen < 90d'
n=$(q "$db" "SELECT count(*) FROM customers WHERE spend > 100 AND
    $last - last_ts < 90 * 86400")
[ $status -eq 0 ] && [ "$out" = "segment big: $n customers" ]
ok $? "filter 'spend > 100 and last_seen < 90d': the $n customers SQL finds"
is "$(q "$db" "SELECT group_concat(customer_id) FROM (SELECT customer_id
    FROM segment_members WHERE segment_id = (SELECT id FROM segments WHERE
    name = 'big') ORDER BY customer_id)")" "$(q "$db" "SELECT
    group_concat(id) FROM (SELECT id FROM customers WHERE spend > 100 AND
    $last - last_ts < 90 * 86400 ORDER BY id)")" "and the same ones"
run "$JS" segment "$db" filter tix 'count(support_ticket, 30d) >= 2'
n=$(q "$db" "SELECT count(*) FROM customers c WHERE (SELECT count(*) FROM
    events e JOIN event_types t ON t.id = e.type_id WHERE e.customer_id =
    c.id AND t.name = 'support_ticket' AND e.ts > $last - 30 * 86400) >= 2")
[ $status -eq 0 ] && [ "$out" = "segment tix: $n customers" ]
ok $? "filter 'count(support_ticket, 30d) >= 2': $n customers, as in SQL"
run "$JS" segment "$db" filter bad 'spend > 100 and bogus < 3'
caret=$(printf '%18s^' '')
[ $status -eq 2 ] &&
    echo "$err" | sed -n 1p |
    grep -q "segment filter: column 17: unknown field 'bogus'" &&
    [ "$(echo "$err" | sed -n 2p)" = "  spend > 100 and bogus < 3" ] &&
    [ "$(echo "$err" | sed -n 3p)" = "$caret" ]
ok $? "a bad filter: exit 2, column 17, the expression and a caret under bogus"
is "$(q "$db" "SELECT count(*) FROM segments WHERE name = 'bad'")" 0 \
    "and no segment"
run "$JS" segment "$db" filter inj "id = 'x'' OR 1=1 --'"
[ $status -eq 0 ] && [ "$out" = "segment inj: 0 customers" ] &&
    [ "$(q "$db" "SELECT count(*) FROM customers")" = 800 ]
ok $? "a quoted OR 1=1: bound as text, no customer, the table intact"
run "$JS" segment "$db" drop big
[ $status -eq 0 ] && [ "$out" = "segment big: dropped" ] &&
    [ "$(q "$db" "SELECT count(*) FROM segments WHERE name = 'big'")" = 0 ] &&
    [ "$(q "$db" "SELECT count(*) FROM segment_members WHERE segment_id NOT
    IN (SELECT id FROM segments)")" = 0 ]
ok $? "drop big: the segment and its members are gone"
run "$JS" segment "$db" drop big
[ $status -eq 1 ] && echo "$err" | grep -q "no segment called 'big'"
ok $? "drop it again: exit 1, no segment called 'big'"

# ---- BG/NBD ----
run "$JS" bgnbd "$db"
buyers=$(q "$db" "SELECT count(DISTINCT e.customer_id) FROM events e JOIN
    event_types t ON t.id = e.type_id WHERE t.is_purchase = 1")
[ $status -eq 0 ] &&
    echo "$out" | grep -q "^BG/NBD on $buyers customers with a purchase" &&
    echo "$out" | grep -q "customers disagree strongly"
ok $? "bgnbd: fitted on the $buyers customers with a purchase, compared"
is "$(q "$db" "SELECT count(*) FROM customer_bgnbd")" "$buyers" \
    "customer_bgnbd: a row for each of them"
# one transaction a day, weeks from the first purchase day
is "$(q "$db" "WITH d AS (SELECT e.customer_id AS c, min(e.ts / 86400) AS
    d0, max(e.ts / 86400) AS d1, count(DISTINCT e.ts / 86400) AS n FROM
    events e JOIN event_types t ON t.id = e.type_id WHERE t.is_purchase = 1
    GROUP BY e.customer_id) SELECT count(*) FROM customer_bgnbd b JOIN d ON
    d.c = b.customer_id WHERE b.x = d.n - 1 AND abs(b.t_x - (d.d1 - d.d0)
    / 7.0) < 1e-9 AND abs(b.T - ($last / 86400 - d.d0) / 7.0) < 1e-9 AND
    b.p_alive > 0 AND b.p_alive <= 1 AND (b.x > 0 OR b.p_alive = 1) AND
    b.p_no_purchase >= 0 AND b.p_no_purchase <= 1")" "$buyers" \
    "x, t_x, T from the purchase days; P(alive) 1 for x = 0; probabilities"

cat >"$tmp/small.csv" <<'EOF'
ID,frequency,recency,T
1,0,0,30
2,0,0,28
3,1,5.5,30
4,2,12,31
5,0,0,25
6,5,26,30
7,1,2,27
8,0,0,32
9,3,20.5,29
10,0,0,31
11,2,4,33
12,7,29,30
13,0,0,26
14,1,20,28
15,4,10,32
16,0,0,30
17,0,0,29
18,2,25,27
19,1,1,31
20,0,0,30
21,6,24,25
22,0,0,33
23,3,8,30
24,1,15,29
25,0,0,28
26,2,27.5,31
27,0,0,30
28,9,30,32
29,1,3,26
30,0,0,31
31,2,6,30
32,0,0,27
33,4,28,29
34,1,9,33
35,0,0,30
36,3,14,28
37,0,0,32
38,1,27,30
39,0,0,29
40,5,16,31
EOF
# ll CSV R ALPHA A B [K D]: the log-likelihood of FHL 2005 eq. (6) in its
# beta-function form, parameter K (1-4) scaled by 1 + D; lgamma by
# Lanczos (g = 7, 9 terms)
ll() {
	awk -v r="$2" -v alpha="$3" -v a="$4" -v b="$5" -v k="${6:-0}" \
	    -v d="${7:-0}" '
	function lgam(x,   s, t, i) {
		if (x < 0.5)
			return log(PI / sin(PI * x)) - lgam(1 - x)
		x -= 1
		s = 0.99999999999980993
		t = x + 7.5
		for (i = 1; i <= 8; i++)
			s += C[i] / (x + i)
		return 0.5 * log(2 * PI) + (x + 0.5) * log(t) - t + log(s)
	}
	function lbeta(u, v) { return lgam(u) + lgam(v) - lgam(u + v) }
	BEGIN {
		FS = ","; PI = 3.141592653589793
		split("676.5203681218851 -1259.1392167224028 " \
		    "771.32342877765313 -176.61502916214059 " \
		    "12.507343278686905 -0.13857109526572012 " \
		    "9.9843695780195716e-6 1.5056327351493116e-7", C, " ")
		if (k == 1) r *= 1 + d
		if (k == 2) alpha *= 1 + d
		if (k == 3) a *= 1 + d
		if (k == 4) b *= 1 + d
	}
	NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
	{
		x = $col["frequency"]; tx = $col["recency"]; T = $col["T"]
		A = lbeta(a, b + x) - lbeta(a, b) + lgam(r + x) - lgam(r) + \
		    r * log(alpha) - (r + x) * log(alpha + T)
		if (x > 0) {
			B = lbeta(a + 1, b + x - 1) - lbeta(a, b) + \
			    lgam(r + x) - lgam(r) + r * log(alpha) - \
			    (r + x) * log(alpha + tx)
			m = A > B ? A : B
			s += m + log(exp(A - m) + exp(B - m))
		} else
			s += A
	}
	END { printf "%.6f\n", s }' "$1"
}
# val NAME: the value on the line "NAME value" of $out
val() {
	echo "$out" | sed -n "s/^$1 //p"
}
run "$JS" bgnbd --summary "$tmp/small.csv"
p="$(val r) $(val alpha) $(val a) $(val b)"
[ $status -eq 0 ] && [ "$(val customers)" = 40 ] &&
    awk -v x="$(ll "$tmp/small.csv" $p)" -v y="$(val log-likelihood)" \
    'BEGIN { exit !(x - y < 1e-3 && y - x < 1e-3) }'
ok $? "bgnbd --summary: 40 customers; its log-likelihood is eq. (6) at \
the printed parameters ($p)"
llmax=$(ll "$tmp/small.csv" $p)
worse=0
for k in 1 2 3 4; do
	for d in 0.05 -0.05; do
		awk -v x="$(ll "$tmp/small.csv" $p $k $d)" -v y="$llmax" \
		    'BEGIN { exit !(x < y) }' && worse=$((worse + 1))
	done
done
is $worse 8 "a maximum: each parameter 5% up or down lowers it"
saved=$out
awk -F, -v OFS=, '{ print $4, $1, $3, NR == 1 ? "extra" : 7, $2 }' \
    "$tmp/small.csv" \
    >"$tmp/shuffled.csv"
run "$JS" bgnbd --summary "$tmp/shuffled.csv"
[ $status -eq 0 ] && [ "$out" = "$saved" ]
ok $? "columns in another order, one more: the same fit"
printf 'frequency,recency\n1,2\n' >"$tmp/nohdr.csv"
run "$JS" bgnbd --summary "$tmp/nohdr.csv"
[ $status -eq 1 ] && echo "$err" |
    grep -q "$tmp/nohdr.csv:1: expected a header with frequency, recency and T"
ok $? "--summary without T: exit 1, FILE:1 and the header wanted"
sed '3s/.*/2,x,1,28/' "$tmp/small.csv" >"$tmp/nan.csv"
run "$JS" bgnbd --summary "$tmp/nan.csv"
[ $status -eq 1 ] &&
    echo "$err" | grep -q "$tmp/nan.csv:3: field 2 is not a number"
ok $? "a field that is not a number: exit 1, FILE:3, field 2"
awk -F, 'NR == 1 || $2 == 0 || NR < 6' "$tmp/small.csv" >"$tmp/few.csv"
run "$JS" bgnbd --summary "$tmp/few.csv"
[ $status -eq 1 ] && echo "$err" | grep -q \
    "19 customers with a purchase, 2 of them repeat buyers: too few to fit"
ok $? "2 repeat buyers: exit 1, too few to fit"
run "$JS" bgnbd "$db" --summary "$tmp/small.csv"
[ $status -eq 2 ]
ok $? "--summary with a DB: exit 2"

# ---- triggers ----
planted="'tickets_unresolved', 'shipping_abandon', 'refund_bad_review'"
decoys="'email_open', 'ad_click', 'search', 'coupon_use'"
"$JS" triggers "$db" --json >"$tmp/trig.json" 2>"$tmp/err"
st=$?
cut=$((last - 30 * 86400))
[ $st -eq 0 ] && [ "$(jq1 "$tmp/trig.json" "json_valid(j) || ' ' ||
    json_extract(j, '\$.outcome') || ' ' || json_type(j, '\$.segment')")" = \
    "1 churn null" ]
ok $? "triggers --json: valid JSON, outcome churn, everyone"
is "$(jq1 "$tmp/trig.json" "json_extract(j, '\$.customers') || ' ' ||
    json_extract(j, '\$.outcomes')")" "$(q "$db" "SELECT count(*) || ' ' ||
    sum(NOT EXISTS (SELECT 1 FROM events e WHERE e.customer_id = c.id AND
    e.ts > $cut AND e.ts <= $cut + 30 * 86400)) FROM customers c WHERE
    c.first_ts <= $cut")" \
    "the customers active by the cut-off and those of them who churned"
# trig SQL: one answer over b(k, n, t): rank (0 first), behaviour, trigger
trig() {
	q :memory: "WITH b AS (SELECT key AS k, json_extract(value,
	    '\$.behaviour') AS n, json_extract(value, '\$.trigger') AS t FROM
	    json_each(CAST(readfile('$tmp/trig.json') AS TEXT),
	    '\$.behaviours')) SELECT $1"
}
diag "rank:trigger of the planted rules and the decoys: $(trig "group_concat(
    n || '#' || k || ':' || t, ' ') FROM b WHERE n IN ($planted, $decoys)")"
is "$(trig "(SELECT count(*) FROM b WHERE n IN ($planted)) || ' ' ||
    (SELECT count(*) FROM b WHERE n IN ($decoys)) || ' ' || ((SELECT max(k)
    FROM b WHERE n IN ($planted)) < (SELECT min(k) FROM b WHERE n IN
    ($decoys)))")" "3 4 1" "every planted churn rule ranks above every decoy"
is "$(trig "group_concat(n || '=' || t, ' ') FROM (SELECT * FROM b WHERE
    n IN ($planted) ORDER BY n)")" \
    "refund_bad_review=1 shipping_abandon=1 tickets_unresolved=1" \
    "the planted rules are marked as triggers"
is "$(trig "count(*) FROM b WHERE n IN ($decoys) AND t")" 0 \
    "no decoy is a trigger"
is "$(jq1 "$tmp/trig.json" "instr(json_extract(j, '\$.summary'),
    'The strongest trigger is ' ||
    json_extract(j, '\$.behaviours[0].phrase') || ':') > 0")" 1 \
    "the summary leads with the first behaviour"

# a customer whose only planted rule is a fired tickets_unresolved
cust=$(q "$db" "SELECT c.ext_id FROM customers c WHERE (SELECT
    group_concat(g.rule || g.fired) FROM ground_truth g WHERE g.customer_id
    = c.id) = 'tickets_unresolved1' ORDER BY c.id LIMIT 1")
diag "customer $cust"
"$JS" triggers "$db" "$cust" --json >"$tmp/cust.json" 2>"$tmp/err"
st=$?
tix=$(q "$db" "SELECT group_concat(strftime('%Y-%m-%dT%H:%M:%SZ', e.ts,
    'unixepoch'), ' ') FROM (SELECT e.ts FROM ground_truth g JOIN
    ground_truth_events x ON x.truth_id = g.id JOIN events e ON e.id =
    x.event_id JOIN customers c ON c.id = g.customer_id WHERE c.ext_id =
    '$cust' ORDER BY e.ts) e")
is "$st $(jq1 "$tmp/cust.json" "(SELECT json_extract(value, '\$.first')
    || ' ' || json_extract(value, '\$.last') || ' ' || (json_extract(value,
    '\$.effect') > 0) FROM json_each(j, '\$.behaviours') WHERE
    json_extract(value, '\$.behaviour') = 'tickets_unresolved')")" \
    "0 $tix 1" "triggers $cust: tickets_unresolved over the planted tickets, \
a positive effect"
is "$(jq1 "$tmp/cust.json" "instr(json_extract(j, '\$.summary'),
    '2 support tickets within 14 days, the later unresolved') > 0")" 1 \
    "and its summary names it"
run "$JS" triggers "$db" "$cust"
[ $status -eq 0 ] &&
    echo "$out" | sed -n 1p | grep -q "^The model puts $cust's churn risk at" &&
    echo "$out" | grep -q "^2 support tickets within 14 days, the later unre"
ok $? "the text report: the summary, then the behaviour's row"

"$JS" triggers "$db" --segment Hibernating --json >"$tmp/seg.json" \
    2>"$tmp/err"
st=$?
is "$st $(jq1 "$tmp/seg.json" "json_extract(j, '\$.segment') || ' ' ||
    json_extract(j, '\$.customers')")" "0 Hibernating $(q "$db" "SELECT
    count(*) FROM segment_members m JOIN segments g ON g.id = m.segment_id
    JOIN customers c ON c.id = m.customer_id WHERE g.name = 'Hibernating'
    AND c.first_ts <= $cut")" \
    "--segment Hibernating: its members active by the cut-off"
run "$JS" triggers "$db" --segment nosuch
[ $status -eq 1 ] && echo "$err" | grep -q "no segment called 'nosuch'"
ok $? "--segment of an unknown name: exit 1"
run "$JS" triggers "$db" --outcome bogus
[ $status -eq 2 ] &&
    echo "$err" | grep -q -- "--outcome takes churn or purchase"
ok $? "--outcome bogus: exit 2"
run "$JS" triggers "$db" "$cust" --segment Hibernating
[ $status -eq 2 ]
ok $? "a customer and --segment: exit 2"
run "$JS" triggers "$db" C999999
[ $status -eq 1 ] && echo "$err" | grep -q "C999999"
ok $? "an unknown customer: exit 1, naming it"

# ---- segments: the list, and one against the rest ----
run "$JS" segments "$db" --json
echo "$out" >"$tmp/segs.json"
is "$(q "$db" "SELECT sum(n) FROM (SELECT json_extract(value,
    '\$.customers') AS n FROM json_each(readfile('$tmp/segs.json'))
    WHERE json_extract(value, '\$.kind') = 'rfm')")" \
    "$(q "$db" "SELECT count(*) FROM customer_rfm")" \
    "segments --json: the RFM segments' sizes add up to the customers scored"
is "$(q "$db" "SELECT round(sum(json_extract(value, '\$.revenue_share')), 3)
    FROM json_each(readfile('$tmp/segs.json')) WHERE json_extract(value,
    '\$.kind') = 'rfm'")" "1.0" "and their revenue shares to 1"
run "$JS" segments "$db" --compare Hibernating --json
echo "$out" >"$tmp/cmp.json"
is "$(jget "$tmp/cmp.json" 'customers[0]' 'customers[1]')" \
    "$(q "$db" "SELECT count(*) FROM segment_members m JOIN segments g ON
    g.id = m.segment_id WHERE g.name = 'Hibernating'") $(q "$db" "SELECT
    count(*) FROM customers WHERE n_events > 0 AND id NOT IN (SELECT
    customer_id FROM segment_members m JOIN segments g ON g.id =
    m.segment_id WHERE g.name = 'Hibernating')")" \
    "--compare: the segment's customers against the rest"
is "$(q "$db" "SELECT round(sum(json_extract(value, '\$.share[0]')), 3)
    FROM json_each(json_extract(readfile('$tmp/cmp.json'),
    '\$.event_types'))")" "1.0" "--compare: the event mix sums to 1"
run "$JS" segments "$db" --compare nosuch
[ $status -eq 1 ] && echo "$err" | grep -q "nosuch"
ok $? "--compare of an unknown segment: exit 1, naming it"
