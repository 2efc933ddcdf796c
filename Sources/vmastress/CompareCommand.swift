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
            Exit codes: 0 no regression, 1 at least one regression, 2 usage error or unreadable file.
            """)

    @Argument(help: "The base results.json (from 'vmastress bench').")
    var base: String

    @Argument(help: "The new results.json.")
    var new: String

    @Option(help: "Smallest change that counts, like 5% or 5.")
    var threshold = "5%"

    @Flag(help: "Show every metric of every cell, not only throughput and changes beyond the threshold.")
    var all = false

    func thresholdPercent() throws -> Double {
        let text = threshold.hasSuffix("%") ? String(threshold.dropLast()) : threshold
        guard let v = Double(text), v >= 0, v < 100 else {
            throw ValidationError("--threshold takes a percentage from 0 to 100, like 5%")
        }
        return v
    }

    func load(_ path: String) throws -> BenchResult {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        do {
            return try JSONDecoder().decode(BenchResult.self, from: data)
        } catch {
            throw ValidationError("\(path) is not a 'vmastress bench' results.json (schema \(BenchResult.schemaID))")
        }
    }

    func validate() throws {
        _ = try thresholdPercent()
        _ = try load(base)
        _ = try load(new)
    }

    func run() throws {
        let c = Comparison.compare(base: try load(base), new: try load(new), thresholdPercent: try thresholdPercent())
        print(c.render(all: all))
        if !c.regressions.isEmpty { throw Exit(status: 1, message: nil) }
    }
}
