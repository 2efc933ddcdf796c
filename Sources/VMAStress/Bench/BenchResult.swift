import Foundation

/// One metric of a cell over its repetitions.
public struct Stat: Codable, Sendable, Equatable {
    /// One per repetition the statistics are over.
    public var values: [Double]
    /// Repetitions run but set aside as outliers (`Suite.keptRuns`): kept
    /// here, left out of the statistics. nil when none were.
    public var setAside: [Double]?
    public var median: Double
    public var min: Double
    public var max: Double
    public var stddev: Double
    /// True for throughput, false for latency and overheads.
    public var higherIsBetter: Bool

    public init(_ values: [Double], higherIsBetter: Bool) {
        self.values = values
        self.higherIsBetter = higherIsBetter
        let s = values.sorted()
        median = s.isEmpty ? 0 : s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        min = s.first ?? 0
        max = s.last ?? 0
        let mean = s.isEmpty ? 0 : s.reduce(0, +) / Double(s.count)
        stddev = s.count < 2 ? 0 : (s.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(s.count - 1)).squareRoot()
    }

    /// (max - min) / median: how far apart the repetitions were.
    public var relativeSpread: Double { median == 0 ? 0 : (max - min) / Swift.abs(median) }

    /// Every repetition run, the ones set aside too.
    public var allValues: [Double] { values + (setAside ?? []) }

    /// (max - min) / median over every repetition run, set-aside ones
    /// included: how noisy the cell was, which is what `compare` must allow for.
    public var fullSpread: Double {
        let all = allValues
        guard let lo = all.min(), let hi = all.max(), median != 0 else { return 0 }
        return (hi - lo) / Swift.abs(median)
    }

    /// (max - min) / median of the `k` values nearest the median: the spread
    /// once outlying repetitions (a second of a noisy neighbour) are set aside.
    public func coreSpread(_ k: Int) -> Double {
        guard values.count > k, k > 0, median != 0 else { return relativeSpread }
        let core = nearestMedian(k).map { values[$0] }
        return (core.max()! - core.min()!) / Swift.abs(median)
    }

    /// The indices of the `k` values nearest the median (on a tie, the
    /// earlier run), in run order.
    public func nearestMedian(_ k: Int) -> [Int] {
        values.indices.sorted { (Swift.abs(values[$0] - median), $0) < (Swift.abs(values[$1] - median), $1) }
            .prefix(k).sorted()
    }

    public func scaled(by f: Double) -> Stat {
        var s = Stat(values.map { $0 * f }, higherIsBetter: higherIsBetter)
        s.setAside = setAside?.map { $0 * f }
        return s
    }
}

/// The metrics a cell reports, by key.
public enum BenchMetric: String, CaseIterable, Codable, Sendable {
    /// The workload's ops/s as will-it-scale counts them (`Workload.Counted`):
    /// fault ops/s except for mmap1, mmap2 and brk1.
    case opsPerSecond = "ops-per-s"
    case faultOpsPerSecond = "fault-ops-per-s"
    case mutationOpsPerSecond = "mutation-ops-per-s"
    case faultP50 = "fault-p50-ns"
    case faultP99 = "fault-p99-ns"
    case mutationP50 = "mutation-p50-ns"
    case mutationP99 = "mutation-p99-ns"
    case locklessPercent = "lockless-pct"
    case abortPercent = "abort-pct"
    case fallbackPercent = "fallback-pct"
    case contextSwitchesPerKOp = "csw-per-kop"
    case cpuNanosPerOp = "cpu-ns-per-op"

    public var higherIsBetter: Bool {
        self == .opsPerSecond || self == .faultOpsPerSecond || self == .mutationOpsPerSecond || self == .locklessPercent
    }

    /// Metrics `compare` judges as regressions (the rest are shown, not gated).
    public var gated: Bool { self == .opsPerSecond || self == .faultOpsPerSecond || self == .mutationOpsPerSecond }

    /// The value one run gives for this metric (nil when it does not apply).
    func value(_ r: RunResult) -> Double? {
        let faults = r.op(.fault)
        let mutations = r.ops.filter { op in OpKind.mutations.contains { $0.name == op.op } }
        let mutationCount = mutations.reduce(UInt64(0)) { $0 + $1.count }
        let allOps = Double((faults?.count ?? 0) + mutationCount)
        switch self {
        case .opsPerSecond: return r.countedOpsPerSecond
        case .faultOpsPerSecond: return faults?.opsPerSecond
        case .mutationOpsPerSecond: return mutationCount > 0 ? mutations.reduce(0) { $0 + $1.opsPerSecond } : nil
        case .faultP50: return faults.map { Double($0.latencyNs.p50) }
        case .faultP99: return faults.map { Double($0.latencyNs.p99) }
        // The slowest mutation kind's.
        case .mutationP50: return mutations.filter { $0.count > 0 }.map { Double($0.latencyNs.p50) }.max()
        case .mutationP99: return mutations.filter { $0.count > 0 }.map { Double($0.latencyNs.p99) }.max()
        case .locklessPercent: return r.faultPathRates?.success
        case .abortPercent: return r.faultPathRates?.aborts
        case .fallbackPercent: return r.faultPathRates?.fallbacks
        case .contextSwitchesPerKOp:
            return allOps > 0 ? 1000 * Double(r.process.voluntaryContextSwitches + r.process.involuntaryContextSwitches) / allOps : nil
        case .cpuNanosPerOp:
            return allOps > 0 ? 1e9 * (r.process.userSeconds + r.process.systemSeconds) / allOps : nil
        }
    }
}

/// One cell: a strategy on a workload at a thread count, over its repetitions.
public struct BenchCell: Codable, Sendable {
    public var workload: String
    public var threads: Int
    public var strategy: String
    public var faulters: Int
    public var mutators: Int
    /// Repetitions the metrics are over (`reproduce` lists every one run).
    public var repetitions: Int
    /// Runs left out of the metrics (0-based, in `reproduce`'s order): with a
    /// suite `spread`, a cell given extra repetitions is reported over the
    /// suite's `repetitions` runs nearest its median ops/s. nil: none.
    public var setAside: [Int]?
    public var metrics: [String: Stat]
    /// Median ops/s (`throughput`) over the baseline's (mmap-lock) in the same cell.
    public var ratioToBaseline: Double?
    /// The same ratio from the repetitions taken in pairs with the
    /// baseline's (same seed, moments apart), with its interval
    /// (`Suite.ratioConfidence`); nil for the baseline and single runs.
    public var ratioInterval: PairedRatio?
    /// SUCCESS unless a repetition found a violation (FAILURE) or was interrupted.
    public var verdict: RunResult.Verdict
    /// Fault latency percentile curve of all repetitions merged: [percentile, ns].
    public var faultLatencyCurve: [[Double]]
    /// The `vmastress run` command of each repetition.
    public var reproduce: [String]
    /// With a suite `spread` limit: the repetitions of its ops/s still spread
    /// beyond it (`Stat.coreSpread` of the suite's repetitions) after the most
    /// repetitions the suite allows. nil: no limit set.
    public var unstable: Bool?
    /// Every repetition's ops/s (those set aside too) falls in two groups apart (`Modes`):
    /// both, low first. nil: one mode, or results written before it was judged.
    public var modes: [Modes.Mode]? = nil

    public func stat(_ m: BenchMetric) -> Stat? { metrics[m.rawValue] }
    /// The headline number: the workload's counted ops/s (fault ops/s in results written before it existed).
    public var throughput: Stat? { stat(.opsPerSecond) ?? stat(.faultOpsPerSecond) }
}

/// will-it-scale's table: per workload and strategy, ops/s by threads and percent of linear.
public struct ScalingPoint: Codable, Sendable {
    public var threads: Int
    public var opsPerSecond: Double
    /// ops/s over (threads x ops/s at the fewest threads / that count); nil
    /// when the cells differ in more than their faulter count (they run
    /// mutators, whose work does not scale with the faulters), so no
    /// percentage of linear means anything.
    public var percentOfLinear: Double?
}

public struct ScalingRow: Codable, Sendable {
    public var workload: String
    public var strategy: String
    public var points: [ScalingPoint]
}

/// What `vmastress bench` writes as results.json (docs/results-schema.md).
public struct BenchResult: Codable, Sendable {
    public static let schemaID = "vmastress.bench/1"
    public var schema = BenchResult.schemaID
    public var tool: String
    public var createdAt: String
    public var machine: Machine
    public var suite: Suite
    /// False when a signal cut the suite short (cells then hold what was measured).
    public var complete: Bool
    public var interruptedBy: String?
    public var elapsedSeconds: Double
    public var cells: [BenchCell]
    public var scaling: [ScalingRow]
    /// For `fault-work = calibrated`: the measurement the suite's fault work came from.
    public var calibration: Calibration?
    /// `--fault-work-from`: the results file whose fault work this one reused.
    public var faultWorkFrom: String?
    /// `--against`: the base binary's side, the order and each cell's paired verdict.
    public var ab: ABComparison?

    public struct Unreadable: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads a results.json, or the results.json in a directory.
    public static func load(path: String) throws -> BenchResult {
        var isDir: ObjCBool = false
        let file = FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue ? path + "/results.json" : path
        guard let data = FileManager.default.contents(atPath: file) else { throw Unreadable(description: "cannot read \(file)") }
        return try read(data, file: file)
    }

    /// Reads the bytes of a results.json (`file` names it in errors).
    public static func read(_ data: Data, file: String) throws -> BenchResult {
        struct Schema: Decodable { var schema: String? }
        let schema = (try? JSONDecoder().decode(Schema.self, from: data))?.schema
        guard let schema else {
            throw Unreadable(description: "\(file) is not a 'vmastress bench' results.json (schema \(schemaID))")
        }
        guard schema == schemaID else {
            throw Unreadable(description: "\(file) has schema \(schema); this build reads \(schemaID)")
        }
        let result: BenchResult
        do {
            result = try JSONDecoder().decode(BenchResult.self, from: data)
        } catch {
            throw Unreadable(description: "\(file) is not a 'vmastress bench' results.json (schema \(schemaID))")
        }
        if let problem = result.inconsistency {
            throw Unreadable(description: "\(file) is not as 'vmastress bench' writes it: \(problem)")
        }
        return result
    }

    /// What a file that decodes but was not written by bench (edited, cut, merged) gets wrong;
    /// nil when every cell is one of a kind, ran, and has finite statistics over its runs.
    var inconsistency: String? {
        var seen = Set<String>()
        for c in cells {
            let name = "\(c.workload) t\(c.threads) \(c.strategy)"
            guard seen.insert(name).inserted else { return "the cell \(name) is there twice" }
            guard c.threads >= 1, c.repetitions >= 1 else { return "the cell \(name) has no threads or no runs" }
            for (metric, stat) in c.metrics {
                let all = stat.allValues + [stat.median, stat.min, stat.max, stat.stddev]
                guard !stat.values.isEmpty, all.allSatisfy(\.isFinite) else {
                    return "the cell \(name)'s \(metric) has no runs or a value that is not a number"
                }
            }
        }
        return nil
    }

    public func cell(_ workload: String, _ threads: Int, _ strategy: String) -> BenchCell? {
        cells.first { $0.workload == workload && $0.threads == threads && $0.strategy == strategy }
    }

    /// Workloads, thread counts and strategies in the order the suite lists them, as measured.
    public var workloads: [String] { cells.map(\.workload).uniqued() }
    public var threadCounts: [Int] { cells.map(\.threads).uniqued().sorted() }
    public var strategies: [String] { cells.map(\.strategy).uniqued() }

    static func scaling(_ cells: [BenchCell]) -> [ScalingRow] {
        var rows: [ScalingRow] = []
        for w in cells.map(\.workload).uniqued() {
            for s in cells.map(\.strategy).uniqued() {
                let mine = cells.filter { $0.workload == w && $0.strategy == s }.sorted { $0.threads < $1.threads }
                guard let first = mine.first, let base = first.throughput?.median, base > 0 else { continue }
                let comparable = mine.allSatisfy { $0.mutators == 0 }
                let perThread = base / Double(first.threads)
                rows.append(ScalingRow(workload: w, strategy: s, points: mine.compactMap { c in
                    c.throughput.map {
                        ScalingPoint(threads: c.threads, opsPerSecond: $0.median,
                                     percentOfLinear: comparable ? 100 * $0.median / (perThread * Double(c.threads)) : nil)
                    }
                }))
            }
        }
        return rows
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
