#!/usr/bin/env python3
"""make mutants: applies each mutant of catalogue.py to a copy of the tree,
rebuilds, runs the matching strategy for up to --seconds on each seed until
the checker reports, and prints a table: mutant, expected invariant, caught
or missed (and what was reported), seconds to the first report.

The copy lives in .build-mutants/tree and is built without whole-module
optimisation, so a mutant's rebuild recompiles a few files instead of the
module (--wmo builds as `make` does, to check that detection does not
depend on it)."""
import argparse, datetime, os, re, shutil, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from catalogue import MUTANTS

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VIOLATION = re.compile(r"^(\S+) violation: ")
AT = re.compile(r", at ([0-9.]+) s$")


def sync_tree(tree):
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for f in filter(None, files):
        src, dst = os.path.join(ROOT, f.decode()), os.path.join(tree, f.decode())
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if not os.path.exists(dst) or open(src, "rb").read() != open(dst, "rb").read():
            shutil.copyfile(src, dst)


def build(tree, wmo):
    cmd = ["swift", "build", "-c", "release", "--product", "vmastress"]
    if not wmo:
        cmd += ["-Xswiftc", "-no-whole-module-optimization"]
    t0 = time.time()
    r = subprocess.run(cmd, cwd=tree, capture_output=True, text=True)
    return r.returncode == 0, time.time() - t0, r.stdout[-2000:] + r.stderr[-2000:]


def run_once(tree, strategy, seed, seconds, extra):
    """(invariant, seconds) of the first report, or None."""
    binary = os.path.join(tree, ".build", "release", "vmastress")
    cmd = [binary, "run", "--strategy", strategy, "--duration", f"{seconds}s", "--warmup", "0s", "--seed", str(seed)] + extra
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds * 4 + 30).stdout
    except subprocess.TimeoutExpired:
        return ("HANG (no report; killed by the outside timeout)", None)
    lines = out.splitlines()
    for i, line in enumerate(lines):
        m = VIOLATION.match(line)
        if m:
            at = AT.search(lines[i + 1]) if i + 1 < len(lines) else None
            return (m.group(1), float(at.group(1)) if at else None)
    return None


def validate_once(tree, name, seconds):
    """A mutant of a primitive is also run through `vmastress validate --only NAME`,
    the project's own stress of that primitive: (report, seconds) when it fails."""
    binary = os.path.join(tree, ".build", "release", "vmastress")
    out = os.path.join(tree, ".build", "mutant-validate.json")
    cmd = [binary, "validate", "--only", name, "--duration", f"{seconds}s", "--json", out]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds * 4 + 30)
    except subprocess.TimeoutExpired:
        return ("HANG (validate killed by the outside timeout)", None)
    if r.returncode != 1:
        return None
    import json
    result = json.load(open(out))["results"][0]
    return (f"validate {name} ({result['test']})", result.get("firstFailureSeconds") or float(seconds))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="comma-separated mutant ids")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--wmo", action="store_true", help="build with whole-module optimisation, as make does")
    ap.add_argument("--out", help="also write the table (Markdown) here")
    ap.add_argument("--run-args", default="", help="more `vmastress run` arguments, e.g. '--hogs 2'")
    ap.add_argument("--compare-run-args", help="run every mutant a second time with these arguments added (e.g. '--preempt off'), "
                    "on the same build, and give both times to the first report")
    args = ap.parse_args()
    mutants = [m for m in MUTANTS if not args.only or m["id"] in args.only.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    for m in mutants:
        for f, old, _ in m["edits"]:
            n = open(os.path.join(ROOT, f)).read().count(old)
            if n != 1:
                sys.exit(f"mutants: {m['id']}: the text to change occurs {n} times in {f} (the catalogue no longer matches the code)")
    tree = os.path.join(ROOT, ".build-mutants", "wmo" if args.wmo else "tree")
    os.makedirs(tree, exist_ok=True)
    sync_tree(tree)
    ok, secs, log = build(tree, args.wmo)
    if not ok:
        sys.exit("mutants: the unmutated tree does not build:\n" + log)
    print(f"baseline build {secs:.0f} s", flush=True)

    rows = []
    for m in mutants:
        originals = {}
        try:
            for f, old, new in m["edits"]:
                path = os.path.join(tree, f)
                if path not in originals:
                    originals[path] = open(path).read()
                text = open(path).read()
                if text.count(old) != 1:
                    sys.exit(f"mutants: {m['id']}: the text to change occurs {text.count(old)} times in {f}")
                open(path, "w").write(text.replace(old, new))
            ok, secs, log = build(tree, args.wmo)
            found = found_b = None
            if ok:
                found = first_report(tree, m, seeds, args.seconds, args.run_args.split())
                if args.compare_run_args is not None:
                    found_b = first_report(tree, m, seeds, args.seconds, args.run_args.split() + args.compare_run_args.split())
        finally:
            for path, text in originals.items():
                open(path, "w").write(text)
        row = dict(m, built=ok, build_seconds=secs, found=found, found_b=found_b,
                   compared=args.compare_run_args is not None)
        rows.append(row)
        print(line(row), flush=True)

    table = render(rows, args)
    print("\n" + table)
    if args.out:
        open(args.out, "w").write(table)


def first_report(tree, m, seeds, seconds, extra):
    """(invariant, seconds, seed) of the first seed that reports, or None; a mutant's own
    `args` (the race shape its bug needs) come before `extra`."""
    for seed in seeds:
        found = run_once(tree, m["strategy"], seed, seconds, m.get("args", "").split() + extra)
        if found:
            return (*found, seed)
    if m.get("validate"):
        found = validate_once(tree, m["validate"], seconds)
        return (*found, "-") if found else None
    return None


def verdict(found):
    if not found:
        return "MISSED"
    inv, at, seed = found
    return f"caught: {inv}" + (f" at {at:.3f} s" if at is not None else "") + (f" (seed {seed})" if seed != "-" else "")


def line(r):
    text = verdict(r["found"]) if r["built"] else "does not build"
    if r["built"] and r["compared"]:
        text += f"; with the compared arguments {verdict(r['found_b'])}"
    eq = " [equivalent]" if r.get("equivalent") else ""
    return f"{r['id']} ({r['strategy']}, expects {r['expect']}){eq}: {text}; rebuild {r['build_seconds']:.0f} s"


def cells(r, found):
    """result, first report, seconds, seed."""
    if not r["built"]:
        return "does not build", "", "", ""
    if not found:
        return "missed", "", "", ""
    inv, at, seed = found
    return ("caught" if at is not None else "hang"), inv, (f"{at:.3f}" if at is not None else ""), str(seed)


def render(rows, args):
    counted = [r for r in rows if not r.get("equivalent") and r["built"]]
    caught = lambda key: [r for r in counted if r[key] and r[key][1] is not None]
    compared = args.compare_run_args is not None
    command = (f"`python3 bench/mutants/run.py --seeds {args.seeds} --seconds {args.seconds}{' --wmo' if args.wmo else ''}"
               f"{' --run-args ' + repr(args.run_args) if args.run_args else ''}"
               f"{' --compare-run-args ' + repr(args.compare_run_args) if compared else ''}`")
    summary = (f"{command}: {len(caught('found'))} of {len(counted)} non-equivalent mutants caught "
               f"({100 * len(caught('found')) / max(1, len(counted)):.0f}%)")
    if compared:
        summary += (f"; with {args.compare_run_args!r} added, {len(caught('found_b'))} "
                    f"({100 * len(caught('found_b')) / max(1, len(counted)):.0f}%)")
    out = [f"# Mutants, {datetime.date.today().isoformat()}", "",
           summary + f"; {sum(1 for r in rows if r.get('equivalent'))} equivalent, left out.", ""]
    header = "| mutant | strategy | expected | result | first report | seconds | seed |"
    rule = "|---|---|---|---|---|---:|---:|"
    if compared:
        header += f" with {args.compare_run_args} | first report | seconds | seed |"
        rule += "---|---|---:|---:|"
    out += [header, rule]
    for r in rows:
        res, inv, at, seed = cells(r, r["found"])
        if r.get("equivalent"):
            res += f" (equivalent: {r['equivalent']})"
        row = f"| {r['id']} | {r['strategy']}{' ' + r['args'] if r.get('args') else ''} | {r['expect']} | {res} | {inv} | {at} | {seed} |"
        if compared:
            row += " " + " | ".join(cells(r, r["found_b"])) + " |"
        out.append(row)
    return "\n".join(out) + "\n"

if __name__ == "__main__":
    main()
