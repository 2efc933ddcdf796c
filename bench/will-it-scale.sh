#!/bin/sh
# will-it-scale's own _threads binaries beside the kernel backend's threads
# mode, on the same testcase and task count, alternating (will-it-scale,
# vmastress, vmastress, will-it-scale, ...) so that the host's drift hits both.
#
#   WIS_DIR=/path/to/built/will-it-scale bench/will-it-scale.sh
#
# WIS_DIR: a built will-it-scale (make there; it needs libhwloc-dev).
# VMASTRESS (default .build/release/vmastress), WIS_SECONDS measured seconds
# a run (default 5; will-it-scale warms up 5 more, vmastress 1), WIS_ROUNDS
# pairs a cell (default 2, so 4 runs a side), WIS_CASES, WIS_TASKS.
# Both sides pin a task to a CPU (will-it-scale does; vmastress --pin compact).
# Prints a Markdown table: the median ops/s of each side and their ratio,
# with every pair's ratio.
set -eu
WIS=${WIS_DIR:?set WIS_DIR to a built will-it-scale}
BIN=${VMASTRESS:-.build/release/vmastress}
S=${WIS_SECONDS:-5}
ROUNDS=${WIS_ROUNDS:-2}
CASES=${WIS_CASES:-"page_fault1 page_fault2 mmap1 brk1"}
TASKS=${WIS_TASKS:-"1 2"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

wis() { "$WIS/${1}_threads" -t "$2" -s "$S" | sed -n 's/^average://p'; }
vms() {
    "$BIN" run --strategy kernel --workload "$1" --faulters "$2" --pin compact --duration "${S}s" --warmup 1s \
        --check light --json "$tmp/r.json" >/dev/null
    # What will-it-scale counts: faults, mmap and munmap pairs, or brk calls.
    python3 - "$1" "$tmp/r.json" <<'EOF'
import json, sys
t, path = sys.argv[1:]
rate = {o["op"]: o["opsPerSecond"] for o in json.load(open(path))["runs"][0]["ops"]}
ops = {"mmap1": ["mmap"], "mmap2": ["mmap"], "brk1": ["mmap", "munmap"]}.get(t, ["fault"])
print(int(sum(rate.get(o, 0) for o in ops)))
EOF
}

echo "| testcase | tasks | will-it-scale's binary | kernel backend | ratio | pairs |"
echo "|---|---|---|---|---|---|"
for t in $CASES; do
    for n in $TASKS; do
        : >"$tmp/pairs"
        r=0
        while [ $r -lt "$ROUNDS" ]; do
            # ABBA: will-it-scale first in even rounds, vmastress first in odd ones.
            if [ $((r % 2)) -eq 0 ]; then a=$(wis "$t" "$n"); b=$(vms "$t" "$n"); else b=$(vms "$t" "$n"); a=$(wis "$t" "$n"); fi
            echo "$a $b" >>"$tmp/pairs"
            r=$((r + 1))
        done
        python3 - "$t" "$n" "$tmp/pairs" <<'EOF'
import statistics, sys
t, n, path = sys.argv[1:]
pairs = [tuple(map(float, l.split())) for l in open(path) if l.strip()]
a = statistics.median(p[0] for p in pairs); b = statistics.median(p[1] for p in pairs)
each = ", ".join(f"{p[1] / p[0]:.2f}" for p in pairs)
fmt = lambda v: f"{v / 1e6:.2f}M" if v >= 1e6 else f"{v / 1e3:.0f}K"
print(f"| {t} | {n} | {fmt(a)} | {fmt(b)} | {b / a:.2f} | {each} |")
EOF
    done
done
