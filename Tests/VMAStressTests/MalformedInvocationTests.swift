import Foundation
import Testing
@testable import VMAStress

/// Invocations a careless or hostile user types, and files they hand over:
/// each must end with exit 2 and one line on stderr naming the problem,
/// before anything runs: no stack trace, no file written anywhere.
@Suite("Malformed invocations", .serialized)
struct MalformedInvocationTests {
    /// Files the cases point at (`@name` in an argument), made once.
    static let fixtures: String = {
        let dir = temporaryPath("malformed-fixtures")
        let fm = FileManager.default
        try? fm.removeItem(atPath: dir)
        try! fm.createDirectory(atPath: dir + "/adir", withIntermediateDirectories: true)
        try! fm.createDirectory(atPath: dir + "/other", withIntermediateDirectories: true)
        _ = fm.createFile(atPath: dir + "/other/notes.txt", contents: Data("mine\n".utf8))
        mkfifo(dir + "/fifo", 0o644)
        symlink("/dev/null", dir + "/devnull-link")
        symlink("/nonexistent/x", dir + "/dangling")
        symlink("/proc/self/fd/1", dir + "/stdout-link")
        let files: [String: [UInt8]] = [
            "dup.suite": Array("name = x\r\nthreads = 1\r\nthreads = 2\r\n".utf8),
            "dup-lf.suite": Array("strategies = mmap-lock\nrepetitions = 2\n\nrepetitions = 3\n".utf8),
            "binary.suite": [0x6E, 0x3D, 0x78, 0x0A, 0x00, 0x01, 0xFF, 0x0A],
            "latin1.suite": Array("name = x\n".utf8) + [0x64, 0xE9, 0x6A, 0xE0, 0x0A],
            "bom-bad.suite": [0xEF, 0xBB, 0xBF] + Array("colour = red\n".utf8),
            "no-equals.suite": Array("strategies mmap-lock\n".utf8),
            "bad-strategy.suite": Array("strategies = mmap-lock, nope\n".utf8),
            "zero-duration.suite": Array("duration = 0s\n".utf8),
            "huge-duration.suite": Array("duration = 1e11s\n".utf8),
            "bad-mix.suite": Array("workload = stress hot=500\n".utf8),
            "bad-work.suite": Array("fault-work = heavy\n".utf8),
            "empty-value.suite": Array("threads =\n".utf8),
            "not-json.json": Array("{ not json".utf8),
            "name-escapes.suite": Array("name = ../../escaped\n".utf8),
            "dup-strategies.suite": Array("strategies = mmap-lock, spf-srcu, mmap-lock\n".utf8),
            "dup-threads.suite": Array("threads = 1, 2, 1\n".utf8),
            "dup-workload.suite": Array("workload = page-fault\nworkload = page-fault\n".utf8),
        ]
        for (name, bytes) in files { _ = fm.createFile(atPath: dir + "/" + name, contents: Data(bytes)) }
        func bench(_ name: String, complete: Bool = true, cells: [String] = ["a", "b"], faultWork: String? = nil,
                   runs: [Double] = [100, 101, 99]) {
            var suite = Suite(name: "t")
            suite.faultWork = faultWork
            let r = BenchResult(
                tool: "t", createdAt: "now", machine: .current(), suite: suite, complete: complete,
                interruptedBy: complete ? nil : "SIGINT", elapsedSeconds: 1,
                cells: cells.map { w in
                    BenchCell(workload: w, threads: 1, strategy: "mmap-lock", faulters: 1, mutators: 0, repetitions: 3,
                              metrics: [BenchMetric.faultOpsPerSecond.rawValue: Stat(runs, higherIsBetter: true)],
                              ratioToBaseline: 1, verdict: .success, faultLatencyCurve: [], reproduce: [])
                }, scaling: [])
            try! AtomicFile.writeJSON(r, to: dir + "/" + name)
        }
        bench("good.json")
        bench("empty.json", cells: [])
        bench("interrupted.json", complete: false)
        bench("fewer.json", cells: ["a"])
        bench("disjoint.json", cells: ["c"])
        bench("other-work.json", faultWork: "1700ns")
        bench("zero-runs.json", runs: [])
        bench("twice.json", cells: ["a", "a"])
        return dir
    }()

    static let quick = FileManager.default.currentDirectoryPath + "/bench/suites/quick.suite"

    /// (arguments, a word the error line must contain). `@x` is fixture x; `@quick` the quick suite.
    static let cases: [([String], String)] = [
        // Durations: garbage, negative, zero where a positive is needed, beyond 30 days.
        (["run", "--duration", "1e11s"], "30 days"),
        (["run", "--warmup", "1e11s"], "30 days"),
        (["run", "--checkpoint-interval", "1e11s"], "30 days"),
        (["run", "--stall-timeout", "1e11s"], "30 days"),
        (["run", "--stall-timeout", "0"], "--stall-timeout"),
        (["run", "--duration", "0"], "--duration"),
        (["run", "--duration", "-3s"], "negative"),
        (["run", "--duration", "soon"], "duration"),
        (["run", "--duration", "nan"], "duration"),
        (["run", "--stat-interval", "1ms"], "--stat-interval"),
        (["run", "--checkpoint-interval", "1us"], "--checkpoint-interval"),
        // Counts and sizes.
        (["run", "--faulters", "0"], "--faulters"),
        (["run", "--faulters", "-1"], "--faulters"),
        (["run", "--faulters", "100000"], "--faulters"),
        (["run", "--faulters", "9223372036854775807"], "--faulters"),
        (["run", "--faulters", "99999999999999999999"], "--faulters"),
        (["run", "--mutators", "100000"], "--mutators"),
        (["run", "--faulters", "400", "--mutators", "400"], "add up"),
        (["run", "--stable-pages", "18446744073709551615"], "pages"),
        (["run", "--churn-pages", "18446744073709551615"], "pages"),
        (["run", "--guard-pages", "0"], "guard"),
        (["run", "--churn-pages", "8"], "churn"),
        (["run", "--sample-every", "3"], "--sample-every"),
        (["run", "--sample-every", "4194304"], "--sample-every"),
        (["run", "--hogs", "65"], "--hogs"),
        (["run", "--hogs", "-1"], "--hogs"),
        (["run", "--preempt", "1us"], "--preempt"),
        (["run", "--preempt", "11s"], "--preempt"),
        (["run", "--preempt", "sometimes"], "--preempt"),
        (["run", "--preempt", "-5us"], "--preempt"),
        (["run", "--seed", "-5"], "--seed"),
        (["run", "--seed", "abc"], "--seed"),
        // --mix.
        (["run", "--mix", "mmap=18446744073709551615,munmap=18446744073709551615"], "mmap"),
        (["run", "--mix", "stable=18446744073709551615,guard=1"], "stable"),
        (["run", "--mix", "populate=200"], "populate"),
        (["run", "--mix", "hot=500"], "hot"),
        (["run", "--mix", "write=101"], "write"),
        (["run", "--mix", "stable=60,guard=60"], "add up"),
        (["run", "--mix", "max-pages=0"], "max-op-pages"),
        (["run", "--mix", "mmap=x"], "mmap"),
        (["run", "--mix", "colour=3"], "colour"),
        (["run", "--mix", "mmap"], "key=value"),
        // Names and lists.
        (["run", "--strategy", "nope"], "nope"),
        (["run", "--strategy", ""], "--strategy"),
        (["run", "--strategy", "mmap-lock,"], "--strategy"),
        (["run", "--check", ""], "--check"),
        (["run", "--check", "bogus"], "bogus"),
        (["run", "--workload", "nope"], "workload"),
        (["run", "--fault-work", "lots"], "--fault-work"),
        (["run", "--fault-work", "5ms"], "--fault-work"),
        (["run", "--fault-work", "-3ns"], "--fault-work"),
        (["run", "--fault-work", "page,"], "--fault-work"),
        (["run", "--fault-work", "calibrate"], "calibrated"),
        (["run", "--mutation-work", "lots"], "--mutation-work"),
        (["run", "--mutation-work", "map=5ms"], "--mutation-work"),
        (["run", "--mutation-work", "zap=1us"], "--mutation-work"),
        (["run", "--mutation-work", "map=1us,map=2us"], "twice"),
        (["run", "--processes"], "kernel"),
        (["run", "--processes", "--strategy", "kernel", "--workload", "ebizzy"], "ebizzy"),
        (["run", "--mutation-rate", "-5"], "--mutation-rate"),
        (["run", "--mms", "0"], "--mms"),
        (["run", "--mms", "65"], "--mms"),
        (["run", "--mms", "two"], "--mms"),
        (["run", "--lockstep"], "--lockstep"),
        (["run", "--lockstep", "--mms", "1"], "--mms 2 or more"),
        (["run", "--vmas", "0"], "--vmas"),
        (["run", "--vmas", "1000001"], "--vmas"),
        (["run", "--vmas", "100", "--churn-pages", "150"], "--churn-pages"),
        (["run", "--vmas", "10", "--workload", "page_fault1", "--mutators", "0"], "--vmas"),
        (["run", "--vmas", "100000", "--strategy", "kernel"], "max_map_count"),
        (["run", "--vmas", "40000", "--strategy", "kernel"], "two"),
        (["run", "--mix", "lookup=101"], "lookup"),
        (["run", "--mutation-rate", "nan"], "--mutation-rate"),
        (["calibrate", "--repetitions", "0"], "--repetitions"),
        (["calibrate", "--duration", "1ms"], "--duration"),
        (["calibrate", "--strategy", "busted-no-zap"], "busted-no-zap"),
        (["calibrate", "--strategy", "kernel"], "kernel"),
        (["calibrate", "--json", "/proc/x.json"], "/proc"),
        (["run", "--rcu-flavor", "memb", "--strategy", "mmap-lock"], "--rcu-flavor"),
        (["run", "--strategy", "none", "--faulters", "2"], "none"),
        (["run", "--workload", "page-fault", "--mutators", "1"], "page-fault"),
        (["run", "--no-such-option"], "no-such-option"),
        (["run", "--duration", "5s", "--duration", "6s"], "twice"),
        (["frobnicate"], "frobnicate"),
        // Placement.
        (["run", "--mem-node", "-1"], "--mem-node"),
        (["run", "--checker-cpu", "-1"], "-1"),
        (["run", "--faulters-node", "-1"], "-1"),
        (["run", "--cpus", "9999"], "9999"),
        (["run", "--shuffle", "1s", "--cpus", "0"], "--shuffle"),
        // Output paths.
        (["run", "--json", ""], "empty"),
        (["run", "--json", "/"], "directory"),
        (["run", "--json", "/proc/version"], "/proc"),
        (["run", "--json", "/dev/null"], "regular file"),
        (["run", "--json", "@fifo"], "regular file"),
        (["run", "--json", "@devnull-link"], "regular file"),
        (["run", "--json", "@adir"], "directory"),
        (["run", "--json", "@dangling"], "dangling"),
        (["run", "--json", "@stdout-link"], "cannot write"),
        (["run", "--json", "/proc/self/fd/1"], "cannot write"),
        (["run", "--json", "/sys/kernel/r.json"], "/sys/"),
        (["run", "--json", "/nonexistent-dir/r.json"], "does not exist"),
        // soak.
        (["soak", "--duration", "1e11s"], "30 days"),
        (["soak", "--duration", "0"], "--duration"),
        (["soak", "--phase", "1s"], "--phase"),
        (["soak", "--rss-limit", "9223372036854775807"], "--rss-limit"),
        (["soak", "--rss-limit", "0"], "--rss-limit"),
        (["soak", "--seed", "-1"], "--seed"),
        (["soak", "--json", ""], "empty"),
        (["soak", "--junit", "/proc/version"], "/proc"),
        (["soak", "--junit", "@fifo"], "regular file"),
        (["soak", "--include-busted", "mmap-lock"], "busted"),
        (["soak", "--strategy", "busted-leak"], "busted"),
        (["soak", "--workload", "nope"], "nope"),
        // validate.
        (["validate", "--duration", "0"], "--duration"),
        (["validate", "--duration", "1e11s"], "30 days"),
        (["validate", "--busted-timeout", "0"], "--busted-timeout"),
        (["validate", "--only", ""], "--only"),
        (["validate", "--only", "a,,b"], "--only"),
        (["validate", "--only", "nope"], "nope"),
        (["validate", "--json", "/dev/null"], "regular file"),
        // bench and its suite files.
        (["bench", "no-such-suite"], "no-such-suite"),
        (["bench", "@quick", "--out", ""], "empty"),
        (["bench", "@quick", "--out", "/"], "'/'"),
        (["bench", "@quick", "--out", "/proc/version"], "not a directory"),
        (["bench", "@quick", "--out", "@other/notes.txt/sub"], "not a directory"),
        (["bench", "@quick", "--out", "@other"], "notes.txt"),
        (["bench", "@quick", "--threads", "0"], "threads"),
        (["bench", "@quick", "--threads", "0,-1"], "threads"),
        (["bench", "@quick", "--repetitions", "-1"], "repetitions"),
        (["bench", "@quick", "--duration", "1e11s"], "30 days"),
        (["bench", "@quick", "--mix", "hot=500"], "hot"),
        (["bench", "@dup.suite"], "lines 2 and 3"),
        (["bench", "@dup-lf.suite"], "lines 2 and 4"),
        (["bench", "@binary.suite"], "0x00"),
        (["bench", "@latin1.suite"], "UTF-8"),
        (["bench", "@bom-bad.suite"], ": colour: unknown field"),
        (["bench", "@no-equals.suite"], "key = value"),
        (["bench", "@bad-strategy.suite"], "nope"),
        (["bench", "@zero-duration.suite"], "duration"),
        (["bench", "@huge-duration.suite"], "30 days"),
        (["bench", "@bad-mix.suite"], "hot"),
        (["bench", "@bad-work.suite"], "fault-work"),
        (["bench", "@empty-value.suite"], "needs a value"),
        (["bench", "primitives", "--repetitions", "-3"], "--repetitions"),
        (["bench", "primitives", "--threads", "0"], "--threads"),
        (["bench", "primitives", "--cell-time", "1e11s"], "30 days"),
        (["bench", "primitives", "--json", "/dev/null"], "regular file"),
        // compare: unreadable files, and files it cannot judge.
        (["compare", "/nonexistent/a.json", "/nonexistent/b.json"], "cannot read"),
        (["compare", "@good.json", "@not-json.json"], "not a 'vmastress bench' results.json"),
        (["compare", "@good.json", "@empty.json"], "no cells"),
        (["compare", "@empty.json", "@good.json"], "no cells"),
        (["compare", "@good.json", "@interrupted.json"], "interrupted"),
        (["compare", "@good.json", "@fewer.json"], "allow-missing"),
        (["compare", "@good.json", "@disjoint.json", "--allow-missing"], "no cell in common"),
        (["compare", "@good.json", "@good.json", "--threshold", "-5"], "--threshold"),
        (["compare", "@good.json", "@good.json", "--threshold", "5", "--threshold", "6"], "twice"),
        (["compare", "@good.json"], "give NEW too"),
        (["compare", "@good.json", "@other-work.json"], "--fault-work-from"),
        // A/B benches: a base that is no vmastress, too few pairs, options that need --against.
        (["bench", "@quick", "--against", "/nonexistent/vmastress"], "no executable"),
        (["bench", "@quick", "--against", "/bin/false"], "not a vmastress"),
        (["bench", "@quick", "--against", "/bin/false", "--pairs", "3"], "--pairs must be"),
        (["bench", "@quick", "--pairs", "8"], "--pairs goes with --against"),
        (["bench", "@quick", "--threshold", "1%"], "--threshold goes with --against"),
        (["bench", "@quick", "--fault-work-from", "@not-json.json"], "not a 'vmastress bench' results.json"),
        (["run", "--repetitions", "0"], "--repetitions"),
        (["topology", "--json", ""], "empty"),
        // Sizes computed from a count before its range check, and ranges that overflow inside.
        (["run", "--vmas", "-1"], "--vmas"),
        (["run", "--vmas", "9223372036854775000"], "--vmas"),
        (["run", "--workload", "page_fault1", "--faulters", "9223372036854775807"], "--faulters"),
        (["bench", "primitives", "--cell-time", "2h"], "--cell-time"),
        // A name past NAME_MAX is refused before the run, not after it.
        (["run", "--json", String(repeating: "x", count: 256)], "NAME_MAX"),
        // Options that shape only the model's mms, with no model strategy to shape.
        (["run", "--strategy", "kernel", "--mms", "2"], "model strategy"),
        (["run", "--strategy", "kernel", "--mm-churn"], "model strategy"),
        (["run", "--strategy", "kernel", "--mms", "2", "--lockstep"], "model strategy"),
        // A filter that keeps nothing is refused, not read as no filter.
        (["bench", "primitives", "--only", "rcu-memb", "--rcu-flavor", "qsbr"], "no primitive"),
        (["bench", "primitives", "--only", ","], "--only needs"),
        // Two outputs of one invocation naming one file, however spelled.
        (["soak", "--json", "same", "--junit", "same"], "same file"),
        (["soak", "--json", "./s.xml", "--junit", "s.xml"], "same file"),
        // Suites: a name that leaves the results directory, a cell listed twice.
        (["bench", "@name-escapes.suite"], "name"),
        (["bench", "@dup-strategies.suite"], "'mmap-lock' is listed twice"),
        (["bench", "@dup-threads.suite"], "'1' is listed twice"),
        (["bench", "@dup-workload.suite"], "'page-fault' is listed twice"),
        (["bench", "@quick", "--strategy", "mmap-lock,mmap-lock"], "listed twice"),
        // Results files that decode but were not written by bench.
        (["compare", "@good.json", "@zero-runs.json"], "no runs"),
        (["compare", "@twice.json", "@good.json"], "there twice"),
        // The parser's own errors come first, and whole.
        (["compare", "@good.json", "--bogus", "5"], "--bogus"),
        (["run", "--json", "/nonexistent/r.json", "--bogus"], "--bogus"),
        (["run", "--workload", "Stress"], Workload.allCases.last!.rawValue),
    ]

    @Test func thereAreAtLeastSixtyCases() { #expect(Self.cases.count >= 60) }

    @Test(arguments: 0..<cases.count)
    func badInputGetsExitTwoOneLineAndWritesNothing(_ i: Int) throws {
        let (template, needle) = Self.cases[i]
        let args = template.map { a in
            a == "@quick" ? Self.quick : a.hasPrefix("@") ? Self.fixtures + "/" + a.dropFirst() : a
        }
        let cwd = temporaryPath("malformed-cwd-\(i)")
        try? FileManager.default.removeItem(atPath: cwd)
        try FileManager.default.createDirectory(atPath: cwd, withIntermediateDirectories: true)
        let before = try snapshot(Self.fixtures)
        let r = try runVMAStress(args, in: cwd)
        #expect(r.status == 2, "\(template): exit \(r.status): \(r.stderr)")
        #expect(r.stdout.isEmpty, "\(template): \(r.stdout.prefix(200))")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(template): \(r.stderr)")
        #expect(r.stderr.hasPrefix("vmastress: error: "), "\(template): \(r.stderr)")
        #expect(r.stderr.contains(needle), "\(template): '\(needle)' not in: \(r.stderr)")
        for trace in ["Fatal error", "Stack dump", "Backtrace", "Crash", "\u{FEFF}"] {
            #expect(!r.stderr.contains(trace), "\(template): \(r.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: cwd).isEmpty, "\(template) wrote into its directory")
        #expect(try snapshot(Self.fixtures) == before, "\(template) changed the fixtures")
    }

    /// Every path under `dir` with its size (symlinks not followed).
    private func snapshot(_ dir: String) throws -> [String: Int] {
        var out: [String: Int] = [:]
        for name in FileManager.default.subpaths(atPath: dir) ?? [] {
            var st = stat()
            lstat(dir + "/" + name, &st)
            out[name] = Int(st.st_size)
        }
        return out
    }
}
