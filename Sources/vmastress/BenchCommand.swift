import ArgumentParser
import CSupport
import Foundation
import VMAStress

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark suites ('vmastress bench [SUITE]') and primitives ('vmastress bench primitives').",
        subcommands: [BenchSuiteCommand.self, BenchPrimitivesCommand.self],
        defaultSubcommand: BenchSuiteCommand.self)
}

struct BenchPrimitivesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "primitives",
        abstract: "ns/op of each primitive's read and write side, Swift beside the same loop in C.",
        discussion: """
            Each cell runs the Swift loop and its C twin (bench/cloops) in alternating slices of \
            --cell-time, --repetitions slices each, threads pinned round-robin to the allowed CPUs. \
            ns/op is per thread (wall time x threads / operations), the median slice. swift/c is \
            the median over slice pairs of the throughput ratio (above 1: Swift is faster).
            A stop signal ends the run after the current slice: the cells that finished are printed \
            and written, exit 128+N.
            """)

    @Option(parsing: .unconditional, help: "How long each measurement runs.")
    var cellTime = "100ms"

    @Option(parsing: .unconditional, help: "Slices per language per cell, alternating (medians are reported).")
    var repetitions = 11

    @Option(parsing: .unconditional, help: "Thread counts, comma-separated (more than the cores oversubscribes).")
    var threads = "1,2,8"

    @Option(help: "Only these primitives, comma-separated: \(PrimitiveBench.primitives.joined(separator: ", ")).")
    var only: String?

    @Option(help: "Only these liburcu flavors (comma-separated: memb, qsbr, mb, signal, bp); other primitives still run.")
    var rcuFlavor: String?

    @Option(help: "Write the results as JSON to this file (atomically).")
    var json: String?

    func options() throws -> PrimitiveBench.Options {
        var o = PrimitiveBench.Options()
        o.cellSeconds = try DurationText.seconds(cellTime)
        // Slices are slept in microseconds held in a UInt32 (71 minutes); an hour is the documented most.
        guard o.cellSeconds > 0, o.cellSeconds <= 3600 else { throw ValidationError("--cell-time must be more than zero and at most 1h") }
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be at least 1") }
        o.repetitions = repetitions
        o.threadCounts = try threads.split(separator: ",").map {
            guard let n = Int($0), n >= 1, n <= 256 else { throw ValidationError("--threads takes counts from 1 to 256") }
            return n
        }
        if let only {
            let names = Set(only.split(separator: ",").map(String.init))
            guard !names.isEmpty else { throw ValidationError("--only needs a primitive: \(PrimitiveBench.primitives.joined(separator: ", "))") }
            if let bad = names.subtracting(PrimitiveBench.primitives).first {
                throw ValidationError("unknown primitive '\(bad)'")
            }
            o.only = names
        }
        if let rcuFlavor {
            let keep = try parseFlavors(rcuFlavor)
            let base = o.only.isEmpty ? Set(PrimitiveBench.primitives) : o.only
            o.only = base.filter { p in !p.hasPrefix("rcu-") || keep.contains { "rcu-\($0.rawValue)" == p } }
            // An empty set means every primitive: a filter that keeps nothing must not turn into that.
            guard !o.only.isEmpty else { throw ValidationError("--only \(only ?? "") with --rcu-flavor \(rcuFlavor) leaves no primitive to run") }
        }
        return o
    }

    func validate() throws {
        if ParsePass.skipsChecks { return }
        try usageChecks {
            _ = try options()
            if let json { try AtomicFile.checkWritable(json) }
        }
    }

    func run() throws {
        vms_install_stop_signals()
        let report = PrimitiveBench.run(try options()) { Console.error("bench: \($0)") }
        Console.out(TextReport.table(
            header: ["primitive", "side", "threads", "swift ns/op", "c ns/op", "swift/c", "swift Mops/s", "c Mops/s"],
            rows: report.cells.map { c in
                [c.primitive, c.side, "\(c.threads)", TextReport.fixed(c.swiftNsPerOp, 2),
                 c.cNsPerOp.map { TextReport.fixed($0, 2) } ?? "-", c.swiftToC.map { TextReport.fixed($0, 3) } ?? "-",
                 TextReport.fixed(c.swiftOpsPerSecond / 1e6, 2), c.cOpsPerSecond.map { TextReport.fixed($0 / 1e6, 2) } ?? "-"]
            }, leftColumns: 2))
        try writeResults(report, to: json)
        let signal = vms_stop_signal()
        if signal != 0 {
            Console.out("\ninterrupted by \(report.interruptedBy ?? "a signal"): \(report.cells.count) cell(s) finished")
            throw Exit(status: ExitStatus.interrupted(by: signal), message: nil)
        }
    }
}
