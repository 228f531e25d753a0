#!/bin/sh
# tests/fuzz/run.sh: run each libFuzzer harness built by build.sh for
# FUZZ_SECONDS (default 60) on its seed corpus, then print one summary
# line per harness. The seeds (corpus/NAME, regress/NAME and, for the
# model, tests/data/ref/*.safetensors) are only read; new inputs go to a
# work corpus beside the binaries, crashes to tests/fuzz/crashes/NAME/;
# tests/fuzz/NAME.dict, where there is one, is the dictionary.
#
# Environment: top_srcdir, top_builddir, FUZZ_BUILD (as build.sh),
# FUZZ_SECONDS, FUZZ_TARGETS (names, default all), FUZZ_FLAGS (more
# libFuzzer flags), FUZZ_NICE (10). Exits 1 when a harness failed.
srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
out=${FUZZ_BUILD:-$builddir/tests/fuzz/build}
secs=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-csv jsonl preset tparse model filter keys}
crashes=$builddir/tests/fuzz/crashes
failed=0

for t in $targets; do
	bin=$out/fuzz-$t
	if [ ! -x "$bin" ]; then
		echo "fuzz: $bin missing (run tests/fuzz/build.sh)" >&2
		exit 1
	fi
	work=$out/work/$t
	mkdir -p "$work" "$crashes/$t"
	seeds="$srcdir/tests/fuzz/corpus/$t"
	test -d "$srcdir/tests/fuzz/regress/$t" &&
	    seeds="$seeds $srcdir/tests/fuzz/regress/$t"
	if [ "$t" = model ]; then
		mkdir -p "$out/seed-model"
		for f in "$srcdir"/tests/data/ref/*.safetensors; do
			test -f "$f" && cp "$f" "$out/seed-model/"
		done
		seeds="$seeds $out/seed-model"
	fi
	dict=
	test -f "$srcdir/tests/fuzz/$t.dict" &&
	    dict="-dict=$srcdir/tests/fuzz/$t.dict"
	log=$out/fuzz-$t.log
	echo "fuzz: $t for ${secs}s (log $log)"
	# -timeout: an input taking 10 s is a hang; -rss_limit_mb: memory
	# blow-ups are findings too
	OPENBLAS_NUM_THREADS=1 LC_ALL=C nice -n "${FUZZ_NICE:-10}" "$bin" \
	    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$crashes/$t/" \
	    $dict $FUZZ_FLAGS "$work" $seeds >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	# fork mode (-fork=1) prints no final stats: its last status line
	test -n "$execs" || execs=$(sed -n 's/^#\([0-9]*\):* .*/\1/p' "$log" |
	    tail -n 1)
	test -n "$rate" || rate=$(sed -n 's/.*exec\/s:* \([0-9]*\).*/\1/p' \
	    "$log" | tail -n 1)
	ncorp=$(ls "$work" | wc -l)
	ncrash=$(ls "$crashes/$t" | wc -l)
	echo "fuzz: $t: ${execs:-?} runs, ${rate:-?} exec/s, corpus" \
	    "$ncorp, crashes $ncrash, exit $rc"
	if [ $rc -ne 0 ]; then
		tail -n 40 "$log"
		failed=1
	fi
done
exit $failed
