import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import VMAStress

@Suite("The vmastress command line", .serialized)
struct CLITests {
    @Test(arguments: [
        ["run", "--faulters", "0"],
        ["run", "--duration", "-3s"],
        ["run", "--duration", "soon"],
        ["run", "--strategy", "nope"],
        ["run", "--json", "/nonexistent-dir/r.json"],
        ["run", "--strategy", "none", "--faulters", "2"],
        ["run", "--sample-every", "3"],
        ["run", "--no-such-option"],
        ["frobnicate"],
        ["soak", "--phase", "1s"],
        ["soak", "--include-busted", "mmap-lock"],
        ["soak", "--strategy", "busted-leak"],
        ["soak", "--workload", "nope"],
        ["run", "--workload", "page-fault", "--mutators", "1"],
        ["run", "--mix", "mmap=x"],
        ["run", "--shuffle", "1s", "--cpus", "0"],
        ["bench", "no-such-suite"],
        ["bench", "quick", "--threads", "0"],
        ["compare", "/nonexistent/a.json", "/nonexistent/b.json"],
    ])
    func badInputGetsOneLineAndTheUsageCode(_ args: [String]) throws {
        let r = try runVMAStress(args)
        #expect(r.status == 2, "\(args): exit \(r.status)")
        #expect(r.stdout.isEmpty)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(args): \(r.stderr)")
        #expect(r.stderr.hasPrefix("vmastress: error: "))
    }

    @Test func aCleanRunPrintsTheTableWritesJSONAndExitsZero() throws {
        let path = temporaryPath("clean.json")
        let r = try runVMAStress(["run", "--strategy", "mmap-lock", "--faulters", "2", "--mutators", "1",
                                  "--duration", "1s", "--warmup", "200ms", "--seed", "4", "--json", path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("--- End of test: SUCCESS (mmap-lock)"))
        for op in ["fault", "mmap", "munmap", "mprotect", "mremap"] { #expect(r.stdout.contains("\n\(op) ")) }
        let file = try JSONDecoder().decode(ResultsFile.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(file.schema == ResultsFile.schemaID)
        #expect(file.runs.count == 1 && file.runs[0].verdict == .success)
        #expect(file.runs[0].config.seed == 4)
        let dir = PathText.directory(of: path)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".vmastress-tmp.\(getpid())") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test func aBustedTwinExitsOneAndNamesTheInvariant() throws {
        let r = try runVMAStress(["run", "--strategy", "busted-no-zap", "--duration", "8s", "--warmup", "0s",
                                  "--seed", "3"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("STALE-PTE violation"))
        #expect(r.stdout.contains("--- End of test: FAILURE (busted-no-zap)"))
        #expect(r.stdout.contains("reproduce: vmastress run --strategy busted-no-zap --faulters 2 --mutators 1 --duration 8s --warmup 0s --seed 3"))
    }

    @Test func severalStrategiesRunSideBySide() throws {
        let r = try runVMAStress(["run", "--strategy", "none,mmap-lock", "--faulters", "1", "--mutators", "0",
                                  "--duration", "500ms", "--warmup", "0s"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("comparison"))
        #expect(r.stdout.contains("ratio to none"))
    }

    /// The kernel's file-backed testcase cannot make its file (TMPDIR is gone): a runtime
    /// error, and the model strategy that ran first is still written.
    @Test func aRuntimeErrorInALaterStrategyKeepsTheFinishedRuns() throws {
        let path = temporaryPath("partial.json")
        try? FileManager.default.removeItem(atPath: path)
        let r = try runVMAStress(["run", "--strategy", "mmap-lock,kernel", "--workload", "page_fault3", "--faulters", "1",
                                  "--duration", "300ms", "--warmup", "0s", "--json", path],
                                 environment: ["TMPDIR": "/nonexistent/tmp"])
        #expect(r.status == 3, "\(r.stderr)")
        #expect(r.stderr.hasPrefix("vmastress: error: cannot make a ") && r.stderr.contains(" MiB temporary file"), "\(r.stderr)")
        #expect(!r.stderr.contains(" 0 MiB"), "\(r.stderr)")
        let runs = try JSONDecoder().decode(ResultsFile.self, from: Data(contentsOf: URL(fileURLWithPath: path))).runs
        #expect(runs.map(\.strategy) == ["mmap-lock"])
    }

    @Test func sigintStopsTheRunAndStillWritesWhatItMeasured() throws {
        let path = temporaryPath("interrupted.json")
        let r = try runVMAStress(["run", "--duration", "60s", "--warmup", "200ms", "--json", path],
                                 interruptAfter: 1.5)
        #expect(r.status == 130, "\(r.stderr)")
        #expect(r.stdout.contains("--- End of test: INTERRUPTED by SIGINT"))
        let file = try JSONDecoder().decode(ResultsFile.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        let run = try #require(file.runs.first)
        #expect(run.verdict == .interrupted && run.interruptedBy == "SIGINT")
        #expect(run.measuredSeconds > 0.5 && run.measuredSeconds < 30)
        #expect((run.op(.fault)?.count ?? 0) > 0)
    }

    /// The deadlocking twin: the watchdog reports it with the thread dump
    /// within twice the stall time, and the process still exits.
    @Test func theWatchdogReportsADeadlockWithTheThreadDump() throws {
        let started = Date()
        let r = try runVMAStress(["run", "--strategy", "busted-missing-end-read", "--stall-timeout", "1s",
                                  "--duration", "30s", "--warmup", "0s", "--seed", "1"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("STALL violation"))
        // Which faulter leaked the read lock and which waits behind the writer is up to timing.
        #expect(r.stdout.contains("(faulter): fault: in the fallback"))
        #expect(r.stdout.contains("waits in vma_start_write for the readers of VMA id"))
        let at = r.stdout.split(separator: "\n").first { $0.contains("seed 1, thread") }
            .flatMap { $0.split(separator: " ").dropLast().last }.flatMap { Double($0) }
        #expect((at ?? 99) < 2.0, "reported at \(at ?? -1) s")
        #expect(Date().timeIntervalSince(started) < 15)
    }

    @Test func checkLevelsRunSideBySide() throws {
        let r = try runVMAStress(["run", "--strategy", "mmap-lock", "--check", "full,light,off", "--duration", "300ms",
                                  "--warmup", "0s", "--faulters", "1", "--mutators", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        for level in CheckLevel.allCases { #expect(r.stdout.contains("mmap-lock (check \(level.rawValue))")) }
        let bad = try runVMAStress(["run", "--check", "paranoid"])
        #expect(bad.status == 2 && bad.stderr.contains("unknown --check level 'paranoid'"))
    }

    @Test func treeAndFlavorOptionsAreCheckedAgainstTheStrategy() throws {
        let tree = try runVMAStress(["run", "--strategy", "per-vma-lock", "--index", "rbtree", "--duration", "1s"])
        #expect(tree.status == 2)
        #expect(tree.stderr.contains("strategy 'per-vma-lock' runs on --index btree, not rbtree"))
        let flavor = try runVMAStress(["run", "--strategy", "mmap-lock", "--rcu-flavor", "qsbr", "--duration", "1s"])
        #expect(flavor.status == 2)
        #expect(flavor.stderr.contains("--rcu-flavor applies to strategies whose readers use RCU"))
        let bad = try runVMAStress(["run", "--strategy", "spf-rcu", "--rcu-flavor", "urcu"])
        #expect(bad.status == 2 && bad.stderr.split(separator: "\n").count == 1)
    }

    @Test func strategiesListsEveryStrategyAndTheTwinsOnRequest() throws {
        let plain = try runVMAStress(["strategies"])
        #expect(plain.status == 0)
        for s in StrategyRegistry.correct { #expect(plain.stdout.contains(s.info.name)) }
        #expect(!plain.stdout.contains("busted-"))
        let all = try runVMAStress(["strategies", "--busted"])
        for twin in StrategyRegistry.busted { #expect(all.stdout.contains(twin.info.name)) }
    }
}

@Suite("Primitive commands", .serialized)
struct PrimitiveCommandTests {
    @Test func benchPrimitivesPrintsSwiftBesideC() throws {
        let path = temporaryPath("prim.json")
        let r = try runVMAStress(["bench", "primitives", "--only", "spinlock,rcu-memb", "--threads", "1",
                                  "--cell-time", "20ms", "--repetitions", "1", "--json", path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("rcu-memb") && r.stdout.contains("swift/c"))
        let report = try JSONDecoder().decode(PrimitiveBench.Report.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(report.cells.count == 3)
        #expect(report.cells.allSatisfy { $0.swiftOpsPerSecond > 0 && ($0.cOpsPerSecond ?? 0) > 0 })
    }

    @Test func validateRunsAndNamesWhatItCaught() throws {
        let r = try runVMAStress(["validate", "--only", "seqcount,busted-seqcount-no-retry", "--duration", "200ms"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("caught in"))
        #expect(r.stdout.contains("--- End of test: SUCCESS (2 validations)"))
        let bad = try runVMAStress(["validate", "--only", "nope"])
        #expect(bad.status == 2)
        let qsbr = try runVMAStress(["validate", "--rcu-flavor", "qsbr", "--list"])
        #expect(qsbr.stdout.contains("rcu-qsbr") && !qsbr.stdout.contains("rcu-memb") && qsbr.stdout.contains("srcu"))
        #expect(try runVMAStress(["validate", "--rcu-flavor", "nope"]).status == 2)
    }
}

@Suite("Placement command line", .serialized)
struct PlacementCLITests {
    @Test(arguments: [["--faulters-node", "7"], ["--mem-node", "9"], ["--cpus", "0-4096"], ["--pin", "diagonal"],
                      ["--checker-cpu", "999"], ["--mem-node", "nearby"]])
    func impossiblePlacementIsAUsageError(_ args: [String]) throws {
        let r = try runVMAStress(["run"] + args + ["--duration", "1s"])
        #expect(r.status == 2, "\(args): \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stdout.isEmpty)
    }

    @Test func topologyPrintsAndWritesJSON() throws {
        let path = temporaryPath("topology.json")
        let r = try runVMAStress(["topology", "--json", path])
        #expect(r.status == 0)
        #expect(r.stdout.contains("node") && r.stdout.contains("this process may run on CPUs"))
        let t = try JSONDecoder().decode(Topology.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(!t.nodes.isEmpty && !t.allowedCPUs.isEmpty)
    }

    @Test func sigintStopsASoakWithinTwoSecondsAndWritesACompleteSummary() throws {
        let json = temporaryPath("soak-int.json"), junit = temporaryPath("soak-int.xml")
        let r = try runVMAStress(["soak", "--duration", "1m", "--phase", "5s", "--seed", "11", "--json", json,
                                  "--junit", junit], interruptAfter: 7)
        #expect(r.status == 130, "\(r.stderr)")
        #expect((r.secondsAfterSignal ?? 99) < 2, "stopped \(r.secondsAfterSignal ?? -1) s after SIGINT")
        #expect(r.stdout.hasPrefix("--- Start of test: soak duration=1m phase=5s seed=11"))
        #expect(r.stdout.contains("--- End of test: INTERRUPTED"))
        let s = try JSONDecoder().decode(SoakResult.self, from: Data(contentsOf: URL(fileURLWithPath: json)))
        #expect(s.schema == SoakResult.schemaID && s.verdict == .interrupted && s.interruptedBy == "SIGINT")
        #expect(s.phases.count >= 2 && s.phases.last?.verdict == .interrupted)
        #expect(s.totals.phases == s.phases.count && s.totals.faults > 0)
        #expect(s.endLine.hasPrefix("--- End of test: INTERRUPTED") && !s.rss.samples.isEmpty)
        #expect(XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: junit))).parse())
    }

    @Test func aSoakWithABustedTwinFailsAndItsReproducerFailsAlone() throws {
        let r = try runVMAStress(["soak", "--duration", "40s", "--phase", "3s", "--seed", "5",
                                  "--strategy", "mmap-lock", "--include-busted", "busted-leak"])
        #expect(r.status == 1, "\(r.stdout)")
        #expect(r.stdout.contains("--- End of test: FAILURE"))
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let i = try #require(lines.firstIndex { $0.hasPrefix("FAILURE in phase") })
        let reproducer = lines[i + 1].trimmingCharacters(in: .whitespaces)
        #expect(reproducer.hasPrefix("vmastress run --strategy busted-leak"))
        let alone = try runVMAStress(reproducer.split(separator: " ").dropFirst().map(String.init))
        #expect(alone.status == 1)
        #expect(alone.stdout.contains("LEAK violation") && r.stdout.contains("LEAK violation"))
    }

    @Test func aBenchSuiteWritesEveryFormatAndCompareGatesOnIt() throws {
        let dir = temporaryPath("bench-quick")
        let r = try runVMAStress(["bench", "quick", "--duration", "100ms", "--warmup", "0s", "--repetitions", "2",
                                  "--out", dir])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("scaling (will-it-scale)") && r.stdout.contains("ratio to mmap-lock"))
        #expect(r.stderr.isEmpty, "progress stays off when stderr is not a terminal")
        let json = dir + "/results.json"
        let result = try JSONDecoder().decode(BenchResult.self, from: Data(contentsOf: URL(fileURLWithPath: json)))
        #expect(result.cells.count == 12 && result.complete && result.cells.allSatisfy { $0.repetitions == 2 })
        #expect(result.cells.filter { $0.strategy == "mmap-lock" }.allSatisfy { $0.ratioToBaseline == 1 })
        let csv = try String(contentsOfFile: dir + "/results.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 13)
        #expect(try String(contentsOfFile: dir + "/results.md", encoding: .utf8).contains("| workload | threads |"))
        let hgrm = try FileManager.default.contentsOfDirectory(atPath: dir + "/hgrm")
        #expect(hgrm.contains("page-fault-t2-spf-rcu-fault.hgrm"))
        let html = try String(contentsOfFile: dir + "/report.html", encoding: .utf8)
        var svgs = 0
        var rest = Substring(html)
        while let a = rest.range(of: "<svg"), let b = rest.range(of: "</svg>", range: a.upperBound..<rest.endIndex) {
            #expect(XMLParser(data: Data(rest[a.lowerBound..<b.upperBound].utf8)).parse())
            svgs += 1
            rest = rest[b.upperBound...]
        }
        #expect(svgs == 7)

        #expect(try runVMAStress(["compare", json, json]).status == 0)
        var slowed = result
        for i in slowed.cells.indices {
            for key in [BenchMetric.faultOpsPerSecond.rawValue, BenchMetric.mutationOpsPerSecond.rawValue] {
                slowed.cells[i].metrics[key] = slowed.cells[i].metrics[key]?.scaled(by: 0.8)
            }
        }
        let slowPath = dir + "/slowed.json"
        try JSONEncoder().encode(slowed).write(to: URL(fileURLWithPath: slowPath))
        let c = try runVMAStress(["compare", json, slowPath, "--threshold", "5%"])
        #expect(c.status == 1 && c.stdout.contains("REGRESSION"), "\(c.stdout)")
    }
}
