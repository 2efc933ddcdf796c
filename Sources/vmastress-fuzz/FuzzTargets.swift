import Foundation
import VMAStress

/// What the fuzzers feed: every reader of text or files from outside. Each
/// takes any bytes; an error is the expected answer to junk, a trap is the bug.
enum FuzzTargets {
    static let all: [(name: String, run: @Sendable (Data) -> Void)] = [
        ("suite", { data in _ = try? Suite.read(data, file: "fuzz.suite", name: "fuzz") }),
        ("results", { data in
            guard let r = try? BenchResult.read(data, file: "fuzz.json") else { return }
            // What compare does with what it read: the checks, the comparison and its reports.
            let c = Comparison.compare(base: r, new: r, thresholdPercent: 5)
            _ = Comparability.problem(base: r, new: r, thresholdPercent: 5, ignoreHostDrift: false)
            _ = Comparability.hostDrift(base: r, new: r)
            _ = c.render(all: true)
            if let ab = r.ab { _ = BenchReport.abTable(ab, thresholdPercent: 2) }
        }),
        // The option values: the first byte picks the parser, the rest is the value.
        ("values", { data in
            guard let which = data.first else { return }
            let value = text(data.dropFirst())
            switch which % 5 {
            case 0: _ = try? DurationText.seconds(value)
            case 1: _ = try? FaultWork(parsing: value)
            case 2: _ = try? CPUList.parse(value)
            case 4: _ = try? MutationWork(parsing: value)
            default: _ = try? MemoryPolicy(parsing: value)
            }
        }),
        ("mix", { data in
            var mix = Workload.stress.mix
            try? mix.apply(spec: text(data))
        }),
        ("path", { data in
            let p = text(data)
            _ = PathText.lengthProblem(p)
            _ = PathText.directory(of: p)
            _ = PathText.temporary(beside: p)
            _ = PathText.sameFile(p, "x")
        }),
    ]

    static func named(_ name: String) -> (@Sendable (Data) -> Void)? { all.first { $0.name == name }?.run }

    static func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }
}
