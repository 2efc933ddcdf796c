#!/bin/sh
# How costs grow from 256 to 30,000 VMAs: the C reference loop on the host kernel
# (bench/vma-scale/vma_scale.c) beside `vmastress run --workload read-mostly --mutators 1 --vmas N`
# on the kernel backend and the model strategies, alternating the sides in one sitting.
#
#   bench/vma-scale.sh                       # VMASTRESS, SECONDS (3), ROUNDS (2), STRATEGIES, MUTATION_WORK
#
# MUTATION_WORK (default: what 'vmastress calibrate' suggests, measured first) is passed to the
# model runs. Prints a Markdown table of medians, 30,000 over 256.
set -eu
BIN=${VMASTRESS:-.build/release/vmastress}
S=${SECONDS_EACH:-3}
ROUNDS=${ROUNDS:-2}
STRATEGIES=${STRATEGIES:-"kernel mmap-lock per-vma-lock per-vma-refcount"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
cc -O2 -o "$tmp/vma_scale" "$(dirname "$0")/vma-scale/vma_scale.c"
if [ -z "${MUTATION_WORK:-}" ]; then
    MUTATION_WORK=$("$BIN" calibrate --duration 300ms --repetitions 1 | sed -n 's/^suggested: --mutation-work //p')
fi
echo "mutation work: $MUTATION_WORK" >&2

model() { # strategy vmas -> "mutation-ops/s fault-ops/s"
    "$BIN" run --strategy "$1" --workload read-mostly --faulters 1 --mutators 1 --vmas "$2" --duration "${S}s" \
        --check light --mutation-work "$MUTATION_WORK" --json "$tmp/r.json" >/dev/null
    python3 - "$tmp/r.json" <<'PY'
import json, sys
ops = {o["op"]: o["opsPerSecond"] for o in json.load(open(sys.argv[1]))["runs"][0]["ops"]}
print(int(sum(v for k, v in ops.items() if k != "fault")), int(ops.get("fault", 0)))
PY
}

for r in $(seq "$ROUNDS"); do
    for n in 256 30000; do
        "$tmp/vma_scale" "$n" "$S" | awk -v n="$n" '{sub("/s", "", $7); print "c", n, $4, $7}' >> "$tmp/all"
        for s in $STRATEGIES; do echo "$s $n $(model "$s" "$n")" >> "$tmp/all"; done
    done
done
python3 - "$tmp/all" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    who, n, mut, fault = line.split()
    rows.setdefault(who, {}).setdefault(int(n), []).append((float(mut), float(fault)))
print("| side | mutations/s at 256 | at 30,000 | ratio | faults/s at 256 | at 30,000 | ratio |")
print("|---|---|---|---|---|---|---|")
for who, by in rows.items():
    m = {n: statistics.median(x[0] for x in v) for n, v in by.items()}
    f = {n: statistics.median(x[1] for x in v) for n, v in by.items()}
    name = "C loop (map+unmap pairs, zap+fault)" if who == "c" else who
    print(f"| {name} | {m[256]:.0f} | {m[30000]:.0f} | {m[30000]/m[256]:.2f} | {f[256]:.0f} | {f[30000]:.0f} | "
          f"{f[30000]/f[256] if f[256] else 0:.2f} |")
PY
