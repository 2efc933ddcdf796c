import ArgumentParser
import Foundation
import VMAStress

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two bench results (results.json) cell by cell and flag regressions.",
        discussion: """
            For each cell in both files and each metric: the change of the median, in percent. A \
            throughput change is a regression only when it is worse by more than --threshold, by \
            more than twice the spread (max - min over median) of either side's repetitions, and every \
            repetition of NEW is below every repetition of BASE: a delta inside the noise of the \
            repetitions is not a regression. Latencies and overheads are shown, not gated. Use at \
            least 3 repetitions per cell.
            Exit codes: 0 no regression, 1 at least one regression, 2 usage error, unreadable file, \
            or cannot judge: BASE or NEW is an interrupted bench (complete: false), has no cells, or \
            lacks cells the other has (unless --allow-missing; at least one cell must still match).
            """)

    @Argument(help: "The base results.json (from 'vmastress bench'), or the directory holding it.")
    var base: String

    @Argument(help: "The new results.json, or its directory.")
    var new: String

    @Option(parsing: .unconditional, help: "Smallest change that counts, like 5% or 5.")
    var threshold = "5%"

    @Flag(help: "Show every metric of every cell, not only throughput and changes beyond the threshold.")
    var all = false

    @Flag(help: "Judge on the cells both files have, when one has cells the other lacks.")
    var allowMissing = false

    func thresholdPercent() throws -> Double {
        let text = threshold.hasSuffix("%") ? String(threshold.dropLast()) : threshold
        guard let v = Double(text), v >= 0, v < 100 else {
            throw ValidationError("--threshold takes a percentage from 0 to 100, like 5%")
        }
        return v
    }

    func load(_ path: String) throws -> BenchResult {
        var isDir: ObjCBool = false
        let file = FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue ? path + "/results.json" : path
        guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
        do {
            return try JSONDecoder().decode(BenchResult.self, from: data)
        } catch {
            throw ValidationError("\(file) is not a 'vmastress bench' results.json (schema \(BenchResult.schemaID))")
        }
    }

    func validate() throws {
        _ = try thresholdPercent()
        _ = try load(base)
        _ = try load(new)
    }

    /// Throws exit 2 when the files cannot support a verdict.
    func checkJudgeable(_ b: BenchResult, _ n: BenchResult, _ c: Comparison) throws {
        for (label, path, r) in [("BASE", base, b), ("NEW", new, n)] {
            if r.cells.isEmpty { throw Exit(status: ExitStatus.usage, message: "cannot judge: \(label) \(path) has no cells") }
            if !r.complete {
                throw Exit(status: ExitStatus.usage, message: "cannot judge: \(label) \(path) is an interrupted bench (complete: false)")
            }
        }
        if !c.unmatched.isEmpty && !allowMissing {
            throw Exit(status: ExitStatus.usage, message: "cannot judge: \(c.unmatched.count) cell(s) in one file only, like "
                + "'\(c.unmatched[0])' (--allow-missing compares the rest)")
        }
        if c.rows.isEmpty { throw Exit(status: ExitStatus.usage, message: "cannot judge: BASE and NEW have no cell in common") }
    }

    func run() throws {
        let b = try load(base), n = try load(new)
        let c = Comparison.compare(base: b, new: n, thresholdPercent: try thresholdPercent())
        try checkJudgeable(b, n, c)
        Console.out(c.render(all: all))
        if !c.regressions.isEmpty { throw Exit(status: 1, message: nil) }
    }
}
