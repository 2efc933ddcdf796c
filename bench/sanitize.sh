#!/bin/sh
# make sanitize: the AddressSanitizer build (.build-asan) runs every correct
# strategy and every busted twin for SANITIZE_SECONDS each. A clean result:
# no sanitizer report anywhere, every correct strategy SUCCESS (exit 0), every
# twin caught by the checker (exit 1), not by the sanitizer. Logs in
# results/sanitize/. Twins that deadlock by design (STALL) are skipped: the
# tests run them in a process of their own.
set -u
BIN=${SANITIZE_BIN:-.build-asan/release/vmastress}
SECONDS_EACH=${SANITIZE_SECONDS:-4}
OUT=results/sanitize
mkdir -p "$OUT"
# Leaks at exit are the process's own caches, freed by the exit itself; every other check is on.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0:halt_on_error=1}
status=0; clean=0; total=0
list=$("$BIN" strategies --plain) || { echo "sanitize: $BIN does not run"; exit 1; }
echo "$list" | {
while read -r name kind breaks args; do
    [ "$breaks" = STALL ] && continue
    total=$((total + 1))
    log="$OUT/$name.log"
    # shellcheck disable=SC2086
    "$BIN" run --strategy "$name" --duration "${SECONDS_EACH}s" --warmup 0s --seed 7 $args >"$log" 2>&1
    rc=$?
    want=0; [ "$kind" = busted ] && want=1
    if grep -q 'Sanitizer' "$log"; then
        echo "sanitize $name: SANITIZER REPORT (exit $rc), see $log"; grep -m3 'ERROR: .*Sanitizer\|SUMMARY' "$log"; status=1
    elif [ $rc -ne $want ]; then
        echo "sanitize $name: exit $rc, expected $want ($kind), see $log"; status=1
    else
        clean=$((clean + 1))
    fi
done
echo "sanitize: $clean of $total runs clean (correct strategies SUCCESS, twins caught by the checker, no sanitizer report)"
exit $status
}
