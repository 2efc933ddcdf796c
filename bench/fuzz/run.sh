#!/bin/sh
# make fuzz: each libFuzzer target of Sources/vmastress-fuzz for FUZZ_SECONDS,
# from the seed corpus in bench/fuzz/corpus/TARGET (what it finds is kept in
# results/fuzz/corpus/TARGET; a crash input goes to results/fuzz/crashes/).
# Prints each target's executions, executions a second and coverage; exit 1
# on any crash.
set -u
BIN=${FUZZ_BIN:-.build-fuzz/release/vmastress-fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-120}
TARGETS=${FUZZ_TARGETS:-"suite results values mix path"}
OUT=results/fuzz
mkdir -p "$OUT/crashes"
status=0
for t in $TARGETS; do
    mkdir -p "$OUT/corpus/$t"
    log="$OUT/$t.log"
    # Results files are kilobytes; the other inputs are a line.
    max_len=4096; [ "$t" = results ] && max_len=32768
    VMASTRESS_FUZZ_TARGET=$t "$BIN" -max_total_time="$SECONDS_EACH" -max_len=$max_len -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$OUT/crashes/$t-" "$OUT/corpus/$t" "bench/fuzz/corpus/$t" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1)
    if [ $rc -ne 0 ]; then
        echo "fuzz $t: CRASH (exit $rc) after ${runs:-?} executions; input in $OUT/crashes/, log in $log"
        grep -m3 'ERROR\|Fatal error\|SUMMARY' "$log"
        status=1
    else
        echo "fuzz $t: ${SECONDS_EACH}s, ${runs:-?} executions (${rate:-?}/s), ${cov:-cov: ?}, ${ft:-ft: ?}, no crash"
    fi
done
exit $status
