#!/bin/sh
# t-tui.sh: the explorer, driven headless (keys from a script, the screen
# dumped as text). On a small sample store with a seeded random model and
# its scores: the customers table (first screen, paging, every sort,
# search, churned only, a filter, counts against SQL), a journey (the
# card, the timeline, every heat method up to occlusion, the faithfulness
# figures and a what-if against explain --occlusion and --drop), resizes
# and a terminal too small, ASCII and UTF-8 glyphs, NO_COLOR and
# --no-color against colour (attribute dumps), the help screen and the
# man page against the key table, the mouse, a store without a model, a
# read-only store, bad scripts, and the terminal given back on SIGTERM
# (under script(1), when it exists). Dumps are compared with the files in
# tests/expected/ (regenerate: KEEP_EXPECTED=1 writes them instead).

. "${top_srcdir:-.}/tests/lib.sh"
need sqlite3 cmp

plan 55

exp=$top_srcdir/tests/expected
db=$tmp/t.db
# tui SCRIPT-TEXT [OPTIONS...]: run the explorer headless on $db, the
# script given as text; dumps in $tmp/dump, stderr in $tmp/err
# (environment for it in $tui_env, e.g. NO_COLOR=1)
tui_db=$db
tui_env=
tui() {
	printf '%s\n' "$1" >"$tmp/keys"
	shift
	env $tui_env "$JS" explore "$tui_db" --headless "$tmp/keys" \
	    --dump "$tmp/dump" "$@" >"$tmp/out" 2>"$tmp/err"
	status=$?
}
# same DUMP NAME: the dump against tests/expected/NAME
same() {
	if [ -n "${KEEP_EXPECTED:-}" ]; then
		cp "$1" "$exp/$2"
		ok 0 "$2 (written)"
		return
	fi
	if cmp -s "$1" "$exp/$2"; then
		ok 0 "$2: the screens as expected"
	else
		ok 1 "$2: the screens as expected"
		diff -u "$exp/$2" "$1" | head -n 40 | sed 's/^/# /'
	fi
}
# screen LABEL: one dump of $tmp/dump (text only) by its label
screen() {
	awk -v l="==== $1 " 'index($0, l) == 1 { on = 1; next }
	    /^==== / { on = 0 } on && !/^-- attributes/ { print }
	    /^-- attributes/ { on = 0 }' "$tmp/dump"
}
# attrs LABEL: the attribute block of a dump
attrs() {
	awk -v l="==== $1 " 'index($0, l) == 1 { on = 1; next }
	    /^==== / { on = 0; a = 0 } on && a { print }
	    on && /^-- attributes/ { a = 1 }' "$tmp/dump"
}

run "$JS" sample "$db" --customers 40 --seed 5 -q
[ $status -eq 0 ] || bail "sample: $err"
run "$JS" model init "$db" --dim 16 --layers 2 --heads 2 --max-len 24 \
    --seed 7
[ $status -eq 0 ] || bail "model init: $err"
run "$JS" score "$db" -q
[ $status -eq 0 ] || bail "score: $err"
ncust=$(q "$db" "SELECT count(*) FROM customers")
lastts=$(q "$db" "SELECT max(last_ts) FROM customers")

# ---- the command line ----
run "$JS" explore --help
[ $status -eq 0 ] && echo "$out" | grep -q -- '--headless SCRIPT' &&
    echo "$out" | grep -q -- '--demo'
ok $? "explore --help lists --headless and --demo"
run "$JS" explore "$db" </dev/null
[ $status -eq 1 ] && echo "$err" | grep -q "needs a terminal"
ok $? "no terminal and no --headless: exit 1, a message"
run "$JS" "$db" </dev/null
[ $status -eq 1 ] && echo "$err" | grep -q "needs a terminal"
ok $? "journeyscope DB is the explorer too"
run "$JS" explore "$tmp/nosuch.db" --headless /dev/null
[ $status -eq 1 ] && echo "$err" | grep -q "no such store" &&
    [ ! -e "$tmp/nosuch.db" ]
ok $? "a missing store: exit 1, nothing created"
tui "Down
bogus-key
Up"
[ $status -eq 1 ] && grep -q "line 2: 'bogus-key' is not a key" "$tmp/err"
ok $? "a bad key script: exit 1 naming the line"
run "$JS" explore "$db" --size 80x24
[ $status -eq 2 ]
ok $? "--size without --headless: exit 2"

# ---- customers ----
tui "dump first
PgDn
dump pgdn
G
dump bottom
g
c
dump churned"
[ $status -eq 0 ]
ok $? "customers: the script runs"
same "$tmp/dump" tui-customers.txt
first=$(q "$db" "SELECT ext_id FROM customers ORDER BY last_ts DESC, id DESC
    LIMIT 1")
screen first | sed -n '4p' | grep -q "^> $first "
ok $? "the first row is the latest customer ($first), under the cursor"
# PgDn moves the window by a page (20 rows at 24 lines): row 21 on top
row21=$(q "$db" "SELECT ext_id FROM customers ORDER BY last_ts DESC, id DESC
    LIMIT 1 OFFSET 20")
screen pgdn | sed -n '4p' | grep -q " $row21 " &&
    screen pgdn | tail -n 1 | grep -q "rows 21-$ncust of $ncust"
ok $? "PgDn: rows 21-$ncust, $row21 on top"
lastc=$(q "$db" "SELECT ext_id FROM customers ORDER BY last_ts, id LIMIT 1")
screen bottom | grep -q "^> $lastc "
ok $? "G: the last customer ($lastc) under the cursor"
nch=$(q "$db" "SELECT count(*) FROM customers
    WHERE last_ts < $lastts - 30 * 86400")
screen churned | tail -n 1 | grep -q "of $nch\$" &&
    screen churned | grep -q "churned only: no event in the 30 days"
ok $? "c: only the $nch churned customers (SQL agrees)"

# every sort order's first row against SQL
bad=0
tui "s
dump spend
s
dump segment
s
dump churn
s
dump id
s
dump events
s
dump first
o
dump first-asc"
for k in "spend|ORDER BY spend DESC, id DESC" \
    "churn|ORDER BY (SELECT churn FROM scores WHERE customer_id = c.id) DESC, id DESC" \
    "id|ORDER BY ext_id, id" "events|ORDER BY n_events DESC, id DESC" \
    "first|ORDER BY first_ts DESC, id DESC" \
    "first-asc|ORDER BY first_ts, id"; do
	l=${k%%|*}
	want=$(q "$db" "SELECT ext_id FROM customers c ${k#*|} LIMIT 1")
	screen "$l" | sed -n '4p' | grep -q "^> $want " ||
	    { bad=1; diag "sort $l: want $want first"; }
done
ok $bad "s and o: each order's first row is SQL's"
screen segment | grep -q "no customers match" &&
    screen segment | grep -q "customers with an RFM segment only"
ok $? "sorting by segment without segments: a clear note"

# search: an id prefix, n, and an attribute value
target=$(q "$db" "SELECT ext_id FROM customers ORDER BY id LIMIT 1 OFFSET 7")
country=$(q "$db" "SELECT json_extract(attrs, '$.country') FROM customers
    ORDER BY id LIMIT 1 OFFSET 3")
tui "/
type $target
Enter
dump found
/
type zzz-nobody
Enter
dump none
/
type country=$country
Enter
dump attr"
screen found | grep -q "^> $target "
ok $? "/ finds the customer by id ($target)"
screen none | tail -n 1 | grep -q "no customer matches 'zzz-nobody'"
ok $? "/ without a match says so"
hit=$(screen attr | sed -n 's/^> \([^ ]*\) .*/\1/p')
[ -n "$hit" ] && [ "$(q "$db" "SELECT json_extract(attrs, '$.country')
    FROM customers WHERE ext_id = '$hit'")" = "$country" ]
ok $? "/ country=$country finds a customer of that country ($hit)"

# filter (the segment filter language)
tui "f
type spend > 50 and events >= 10
Enter
dump filtered
f
^U
type spend >
Enter
dump badfilter"
nf=$(q "$db" "SELECT count(*) FROM customers WHERE spend > 50 AND
    n_events >= 10")
screen filtered | tail -n 1 | grep -q "of $nf\$" &&
    screen filtered | grep -q "filter: spend > 50 and events >= 10"
ok $? "f: a filter keeps the $nf customers SQL counts"
screen badfilter | tail -n 1 | grep -q "filter: column"
ok $? "f: a bad expression names its column"

# ---- a journey ----
big=$(q "$db" "SELECT ext_id FROM customers WHERE n_events > 30 ORDER BY id
    LIMIT 1")
tui "/
type $big
Enter
Enter
dump journey
g
dump oldest
G
m
dump mean
m
dump l1h1
m
m
m
dump l2h2
m
dump occlusion
k
x
dump masked
o
dump newest
t
dump text
Tab
Down
dump text-scrolled
Tab
t
x
dump restored
r
dump rerun"
[ $status -eq 0 ]
ok $? "journey: the script runs"
same "$tmp/dump" tui-journey.txt
screen journey | grep -q "rollout" && screen mean | grep -q "last-layer mean" &&
    screen l1h1 | grep -q "layer 1 head 1" &&
    screen l2h2 | grep -q "layer 2 head 2" &&
    screen occlusion | grep -q "occlusion -risk|+risk"
ok $? "m cycles rollout, last-layer mean, each head, occlusion (named)"
n=$(q "$db" "SELECT n_events FROM customers WHERE ext_id = '$big'")
[ "$(screen oldest | grep -c 'outside the window')" -gt 0 ] &&
    screen journey | tail -n 1 | grep -q "event $n of $n, oldest first, window 24"
ok $? "the timeline: $n events, oldest first, the window of 24 marked"
# faithfulness and what-if against explain
"$JS" explain "$db" "$big" --occlusion >"$tmp/ex" 2>&1
f=$(sed -n 's/^faithfulness: masking the 3 most attended events changes churn by \([^;]*\); 3 random events \([^ ]*\) .*/\1 \2/p' "$tmp/ex")
top3=${f% *}
rnd3=${f#* }
[ -n "$f" ] && screen occlusion | grep -q "top-3 $top3 vs random $rnd3"
ok $? "the faithfulness badge shows explain --occlusion's figures ($f)"
masked=$(q "$db" "SELECT e.id FROM events e JOIN customers c
    ON c.id = e.customer_id WHERE c.ext_id = '$big'
    ORDER BY e.ts DESC, e.id DESC LIMIT 1 OFFSET 1")
"$JS" explain "$db" "$big" --drop "$masked" >"$tmp/ex2" 2>&1
c01=$(sed -n 's/^what-if .*: churn \([0-9.]*\) -> \([0-9.]*\) .*/\1 -> \2/p' \
    "$tmp/ex2")
[ -n "$c01" ] && screen masked | grep -q "churn risk $c01" &&
    screen masked | grep -q "masked (x restores)"
ok $? "x masks the event and re-scores as explain --drop does ($c01)"
! screen restored | grep -q "masked (x restores)" &&
    ! screen restored | grep -q "without 1 event"
ok $? "x again restores it"
screen text | grep -q "full text" && screen text | grep -q "event $masked"
ok $? "t shows the event's full text in a pane"

# ---- resize, a terminal too small ----
tui "resize 100x30
dump wide
Enter
dump wide-journey
resize 60x16
dump narrow
resize 40x10
dump tiny
resize 80x24
dump back"
[ $status -eq 0 ]
ok $? "resizes: the script runs"
same "$tmp/dump" tui-resize.txt
screen tiny | grep -q "terminal too small: 40x10" &&
    screen back | grep -q "^ journeyscope"
ok $? "below the minimum a message, and the screen again after"
tui "" --size 30x8
screen end | grep -q "terminal too small: 30x8"
ok $? "--size 30x8 from the start: the message"

# ---- glyphs and colour ----
if locale -a 2>/dev/null | grep -qi '^c\.utf-\?8$'; then
	u=C.UTF-8
	printf 'Enter\nrepeat 6 m\ndump utf8\n' >"$tmp/keys"
	LC_ALL=$u "$JS" explore "$db" --headless "$tmp/keys" --dump \
	    "$tmp/utf8" 2>"$tmp/err"
	same "$tmp/utf8" tui-utf8.txt
	grep -q "$(printf '\342\226\270')" "$tmp/utf8" &&
	    grep -q "$(printf '\342\224\202')" "$tmp/utf8"
	ok $? "UTF-8 locale: the cursor and the rules are UTF-8 glyphs"
	LC_ALL=$u "$JS" explore "$db" --headless "$tmp/keys" --dump \
	    "$tmp/ascii" --ascii 2>"$tmp/err"
	! LC_ALL=C grep -q '[^ -~]' "$tmp/ascii"
	ok $? "--ascii in a UTF-8 locale: every glyph is visible ASCII"
else
	skip "no C.UTF-8 locale"
	skip "no C.UTF-8 locale"
	skip "no C.UTF-8 locale"
fi
tui "dump plain"
! LC_ALL=C grep -q '[^ -~]' "$tmp/dump"
ok $? "LC_ALL=C: ASCII only"
tui "dump colour" --dump-attrs
attrs colour | grep -q '#' && attrs colour | sed -n '4p' | grep -q 'B'
ok $? "colour: colour pairs, the cursor's row bold on a colour"
tui_env=NO_COLOR=1
tui "dump mono" --dump-attrs
! attrs mono | grep -q '[#A-Z]' &&
    attrs mono | sed -n '4p' | grep -q '^rrrrrrrrrrrrrrrrrrrrrrrrrrrrrr' &&
    attrs mono | sed -n '1p' | grep -q '^r*$'
ok $? "NO_COLOR: no colour at all; the cursor's row and the title reversed"
tui "dump mono2" --dump-attrs
attrs mono2 >"$tmp/a2"
tui_env=
tui "dump mono2" --dump-attrs --no-color
attrs mono2 >"$tmp/a1"
cmp -s "$tmp/a1" "$tmp/a2"
ok $? "--no-color looks exactly like NO_COLOR"
tui_env=NO_COLOR=
tui "dump empty" --dump-attrs
attrs empty | grep -q '#'
ok $? "an empty NO_COLOR does not turn colour off"
tui_env=

# ---- help, keys, the man page ----
tui "?
dump help
PgDn
dump help2
PgDn
dump help3
PgDn
dump help4
q
dump back"
screen help | grep -q "on the customers screen" &&
    screen help | grep -q "  Up k  *move up" &&
    screen back | grep -q "sorted by last seen"
ok $? "? opens help from the key table, q goes back"
"$JS" explore --keys=text >"$tmp/keys.txt"
bad=0
while IFS= read -r line; do
	case $line in
	"  "*) k=$(echo "$line" | sed 's/^  \(.\{22\}\) .*/\1/;s/ *$//')
	    grep -qF -- "$k" "$tmp/dump" || { bad=1; diag "help lacks $k"; } ;;
	esac
done <"$tmp/keys.txt"
ok $bad "the help screen shows every binding of the key table"
"$JS" explore --keys=man >"$tmp/keys.man"
man=$top_srcdir/man/journeyscope.1.in
awk 'NR == FNR { want = want $0 "\n"; next } { have = have $0 "\n" }
    END { exit index(have, want) ? 0 : 1 }' "$tmp/keys.man" "$man"
ok $? "the man page's key list is explore --keys=man, verbatim"

# ---- the mouse ----
row5=$(q "$db" "SELECT ext_id FROM customers ORDER BY last_ts DESC, id DESC
    LIMIT 1 OFFSET 4")
tui "click 10 7
dump clicked
wheel-down 10 7
dump wheeled" --mouse
screen clicked | grep -q "^> $row5 "
ok $? "--mouse: a click on a row selects it ($row5)"
screen wheeled | sed -n '11p' | grep -q '^> '
ok $? "--mouse: the wheel moves three rows"
tui "click 10 7
dump clicked"
screen clicked | sed -n '4p' | grep -q '^> '
ok $? "without --mouse clicks do nothing"

# ---- segments (the segment command's RFM segments) ----
db3=$tmp/seg.db
cp "$db" "$db3"
if "$JS" segment "$db3" rfm >/dev/null 2>&1; then
	tui_db=$db3
	tui "S
dump segs
Enter
dump members"
	tui_db=$db
	nseg=$(q "$db3" "SELECT count(*) FROM segments")
	s1=$(q "$db3" "SELECT name FROM segments ORDER BY kind, name LIMIT 1")
	n1=$(q "$db3" "SELECT count(*) FROM segment_members m JOIN segments g
	    ON g.id = m.segment_id WHERE g.name = '$s1'")
	screen segs | tail -n 1 | grep -q "segment 1 of $nseg\$" &&
	    screen segs | grep -q "^> $s1  *rfm  *$n1 " &&
	    screen segs | grep -q "top churn triggers in $s1" &&
	    ! screen segs | grep -q "computing"
	ok $? "S: $nseg segments, $s1 with its $n1 members, its triggers"
	screen members | tail -n 1 | grep -q "of $n1\$" &&
	    screen members | grep -q "segment $s1"
	ok $? "Enter on a segment lists its $n1 customers"
else
	skip "no segment command"
	skip "no segment command"
fi

# ---- stores without a model, read-only ----
db2=$tmp/nomodel.db
run "$JS" sample "$db2" --customers 12 --seed 2 -q
tui_db=$db2
tui "Enter
dump journey
m
dump method
M
dump card"
screen journey | grep -q "no model in this store" &&
    screen method | tail -n 1 | grep -q "no inference" &&
    screen card | grep -q "no model in this store"
ok $? "a store without a model browses, with notes where inference is missing"
tui "M
t
dump card" --readonly
screen card | tail -n 1 | grep -q "read-only store"
ok $? "--readonly: training says why it cannot"
tui_db=$db
tui "M
r
dump card" --readonly
screen card | tail -n 1 | grep -q "read-only store: scores cannot be stored"
ok $? "--readonly: scoring says why it cannot"

# ---- the terminal back on a signal: quit signals and a crash ----
if command -v script >/dev/null 2>&1 && [ -z "${NO_PTY:-}" ]; then
	for sig in TERM:143 INT:130 HUP:129 SEGV:139 ABRT:134; do
		name=${sig%:*}
		want=${sig#*:}
		rm -f "$tmp/pid" "$tmp/typescript"
		# exec keeps the pid, so the one in the file is the explorer's
		TERM=xterm script -qfec "sh -c 'echo \$\$ >\"$tmp/pid\"; exec \
\"$JS\" explore \"$db\"'" "$tmp/typescript" >/dev/null 2>&1 </dev/null &
		spid=$!
		i=0
		while [ $i -lt 100 ] && ! { [ -s "$tmp/pid" ] &&
		    grep -q "rows 1-" "$tmp/typescript" 2>/dev/null; }; do
			sleep 0.1
			i=$((i + 1))
		done
		[ -s "$tmp/pid" ] && kill -"$name" "$(cat "$tmp/pid")"
		wait $spid
		st=$?
		# xterm's exit_ca_mode gives the screen back
		[ $st -eq "$want" ] && tail -c 300 "$tmp/typescript" |
		    grep -q "$(printf '\033')\\[?1049l"
		ok $? "SIG$name: exit $want (got $st), the screen given back (rmcup written)"
	done
else
	for sig in TERM INT HUP SEGV ABRT; do
		skip "no script(1)"
	done
fi
