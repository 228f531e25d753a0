# lib.sh: TAP for the shell tests; sourced, not run.
#
#   plan N          print the plan (the script must then run N checks)
#   ok STATUS DESC  one check: passes when STATUS is 0
#   is GOT WANT DESC  passes when the strings are equal
#   run CMD...      run a command: $status, stdout in $out, stderr in $err
#                   (also in the files $tmp/out and $tmp/err)
#   skip DESC       a check that could not run here
#   diag TEXT       a TAP comment
#   q DB SQL        one answer of the sqlite3 shell
#   jget FILE PATH...  values of the JSON in FILE at $.PATH, one line,
#                   space-separated, null when absent (sqlite3's json_extract)
#   need PROG...    skip the whole script when a program is missing
#   bail TEXT       stop the script: a failure
#
# $tmp is a fresh directory, removed on exit. The script exits non-zero
# when a check failed or the count differs from the plan. Needs $JS (the
# built program) and $top_srcdir (for tests/data) from the environment.

: "${top_srcdir:=.}"
: "${JS:=$top_srcdir/src/journeyscope}"
data=$top_srcdir/tests/data
tap_n=0
tap_failed=0
tap_planned=
tap_bailed=
tmp=$(mktemp -d "${TMPDIR:-/tmp}/js-test.XXXXXX") || exit 1

tap_finish() {
	st=0
	[ "$tap_failed" -gt 0 ] && st=1
	[ -n "$tap_bailed" ] && st=1
	if [ -n "$tap_planned" ] && [ "$tap_planned" -ne "$tap_n" ]; then
		echo "# planned $tap_planned checks, ran $tap_n"
		st=1
	fi
	if [ $st -eq 0 ] || [ -z "${KEEP_TMP:-}" ]; then
		rm -rf "$tmp"
	else
		echo "# files kept in $tmp"
	fi
	exit $st
}
trap tap_finish EXIT
trap 'exit 1' INT TERM HUP

plan() {
	tap_planned=$1
	echo "1..$1"
}

diag() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

ok() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ] 2>/dev/null; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
		# the last command's output helps to see why
		if [ -s "$tmp/err" ]; then
			diag "stderr of the last command:"
			head -n 20 "$tmp/err" | sed 's/^/#   /'
		fi
	fi
	return "$1" 2>/dev/null || return 1
}

is() {
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "got:  '$1'"
		diag "want: '$2'"
		return 1
	fi
}

skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n # SKIP $1"
}

run() {
	"$@" >"$tmp/out" 2>"$tmp/err"
	status=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
	return 0
}

q() {
	sqlite3 -batch "$1" "$2" 2>&1
}

jget() {
	jget_f=$1
	shift
	jget_sql=
	for jget_p in "$@"; do
		jget_sql="$jget_sql${jget_sql:+ || ' ' || }coalesce(\
json_extract(j, '\$.$jget_p'), 'null')"
	done
	sqlite3 -batch :memory: "SELECT $jget_sql FROM (SELECT \
CAST(readfile('$jget_f') AS TEXT) AS j)" 2>&1
}

need() {
	for p in "$@"; do
		if ! command -v "$p" >/dev/null 2>&1; then
			echo "1..0 # SKIP needs $p"
			tap_planned=
			exit 0
		fi
	done
}

bail() {
	echo "Bail out! $*"
	tap_bailed=1
	exit 1
}

[ -x "$JS" ] || bail "no program at JS=$JS"
