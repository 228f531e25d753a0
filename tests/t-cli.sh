#!/bin/sh
# t-cli.sh: the command line. --help and --version on the program and on
# every subcommand (exit 0, text on stdout); unknown options, unknown
# commands, missing or extra operands and bad option values (exit 2 with
# the usage on stderr and nothing on stdout); a missing store (exit 1,
# nothing created).

. "${top_srcdir:-.}/tests/lib.sh"

version=$(sed -n 's/^AC_INIT(\[journeyscope\], \[\([^]]*\)\].*/\1/p' \
    "$top_srcdir/configure.ac")
# the subcommands, as the program lists them
cmds=$("$JS" --help 2>/dev/null |
    sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' | tr '\n' ' ')
ncmds=$(echo $cmds | wc -w)

plan $((12 + 5 * ncmds + 13))

run "$JS" --help
[ $status -eq 0 ] && [ -z "$err" ] &&
    echo "$out" | grep -q '^usage: journeyscope .*COMMAND'
ok $? "--help: exit 0, usage on stdout"
run "$JS" -h
[ $status -eq 0 ] && echo "$out" | grep -q '^usage: journeyscope'
ok $? "-h: exit 0, usage"
run "$JS" help
[ $status -eq 0 ] && echo "$out" | grep -q '^usage: journeyscope'
ok $? "help: exit 0, usage"
for c in import info customers; do
	echo " $cmds " | grep -q " $c "
	ok $? "--help lists the command '$c'"
done
run "$JS" --version
is "$status:$out" "0:journeyscope $version" "--version: exit 0, the version \
of configure.ac"
run "$JS" -V
is "$status:$out" "0:journeyscope $version" "-V: the version"

run "$JS"
[ $status -eq 2 ] && [ -z "$out" ] && grep -q '^usage: journeyscope' "$tmp/err"
ok $? "no command: exit 2, usage on stderr"
run "$JS" frobnicate x.db
[ $status -eq 2 ] && [ -z "$out" ] &&
    grep -q "unknown command 'frobnicate'" "$tmp/err" &&
    grep -q '^usage: journeyscope' "$tmp/err"
ok $? "unknown command: exit 2, message and usage on stderr"
run "$JS" --frobnicate
[ $status -eq 2 ] && [ -z "$out" ] && grep -q '^usage: journeyscope' "$tmp/err"
ok $? "unknown option before the command: exit 2, usage on stderr"
[ ! -e x.db ] && [ ! -e "$tmp/x.db" ]
ok $? "nothing was created"

for c in $cmds; do
	run "$JS" "$c" --help
	[ $status -eq 0 ] && [ -z "$err" ] &&
	    echo "$out" | grep -q "^usage: journeyscope $c " &&
	    echo "$out" | grep -q -- '--help'
	ok $? "$c --help: exit 0, its usage on stdout"
	run "$JS" "$c" --version
	is "$status:$out" "0:journeyscope $c $version" "$c --version"
	run "$JS" "$c" --no-such-option "$tmp/a.db"
	[ $status -eq 2 ] && [ -z "$out" ] &&
	    grep -q "unknown option --no-such-option" "$tmp/err" &&
	    grep -q "^usage: journeyscope $c " "$tmp/err"
	ok $? "$c --no-such-option: exit 2, message and usage on stderr"
	run "$JS" "$c" -Z "$tmp/a.db"
	[ $status -eq 2 ] && [ -z "$out" ] &&
	    grep -q "unknown option -Z" "$tmp/err" &&
	    grep -q "^usage: journeyscope $c " "$tmp/err"
	ok $? "$c -Z: exit 2, message and usage on stderr"
	run "$JS" "$c"
	[ $status -eq 2 ] && [ -z "$out" ] &&
	    grep -q "^usage: journeyscope $c " "$tmp/err"
	ok $? "$c without operands: exit 2, usage on stderr"
done

run "$JS" import "$tmp/a.db"
[ $status -eq 2 ] && grep -q 'expected DB FILE' "$tmp/err" &&
    [ ! -e "$tmp/a.db" ]
ok $? "import DB without FILE: exit 2, no store created"
run "$JS" info "$tmp/a.db" "$tmp/b.db"
[ $status -eq 2 ] && grep -q '^usage: journeyscope info' "$tmp/err"
ok $? "info with two stores: exit 2"
run "$JS" customers "$tmp/a.db" extra
[ $status -eq 2 ]
ok $? "customers with an extra operand: exit 2"
run "$JS" import --preset
[ $status -eq 2 ] && grep -q 'option --preset needs an argument' "$tmp/err"
ok $? "an option without its argument: exit 2, named"
run "$JS" import --preset nosuch "$tmp/a.db" "$data/clickstream.csv"
[ $status -eq 2 ] && grep -q "unknown preset 'nosuch'" "$tmp/err" &&
    grep -q 'online-retail' "$tmp/err" && [ ! -e "$tmp/a.db" ]
ok $? "import --preset nosuch: exit 2, the known presets listed"
run "$JS" import --map 'nosuch=x' "$tmp/a.db" "$data/clickstream.csv"
[ $status -ne 0 ] && grep -q "unknown target 'nosuch'" "$tmp/err"
ok $? "import --map with an unknown target: refused, named"
run "$JS" import --delimiter '"' "$tmp/b.db" "$data/clickstream.csv"
[ $status -ne 0 ] && grep -q "bad delimiter" "$tmp/err"
ok $? "import with a quote as delimiter: refused"

run "$JS" info "$tmp/none.db"
[ $status -eq 1 ] && grep -q 'none.db: no such store' "$tmp/err" &&
    [ ! -e "$tmp/none.db" ]
ok $? "info on a missing store: exit 1, nothing created"
run "$JS" customers "$tmp/none.db"
[ $status -eq 1 ] && grep -q 'no such store' "$tmp/err" &&
    [ ! -e "$tmp/none.db" ]
ok $? "customers on a missing store: exit 1, nothing created"
run "$JS" import -q "$tmp/c.db" "$data/clickstream.csv" --preset clickstream
ok $status "an import to list"
run "$JS" customers "$tmp/c.db" --sort bogus
[ $status -eq 2 ] && grep -q 'sort' "$tmp/err"
ok $? "customers --sort bogus: exit 2"
run "$JS" customers "$tmp/c.db" --limit 0
[ $status -eq 2 ] && grep -q 'limit' "$tmp/err"
ok $? "customers --limit 0: exit 2"
run "$JS" customers "$tmp/c.db" --sort id --limit 2
is "$status:$(echo "$out" | sed 1d | awk '{ print $1 }' | tr '\n' ' ')" \
    "0:user_0000 user_0001 " "customers --sort id --limit 2: the first two"
