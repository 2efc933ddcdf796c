import CSupport
import Foundation

/// `vmastress bench SUITE --against BASE`: every cell of a suite measured by
/// two vmastress binaries in one invocation. Each cell runs `pairs` pairs;
/// pair i runs repetition i's `vmastress run` (seed + i, the same fault
/// work) with both binaries back to back, base first in even pairs and new
/// first in odd ones (ABBA), so the host's drift and a warm second run land
/// on both sides alike. Pairs interleave across strategies as a suite's
/// repetitions do. Both sides run as child processes, so neither inherits
/// the other's heap, threads or warm caches.
public enum ABRunner {
    public struct Options: Sendable {
        /// The base binary (`--against`) and the new one (this binary).
        public var base: String
        public var new: String
        public var pairs: Int
        public var thresholdPercent: Double

        public init(base: String, new: String, pairs: Int, thresholdPercent: Double) {
            self.base = base
            self.new = new
            self.pairs = pairs
            self.thresholdPercent = thresholdPercent
        }
    }

    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    public static func run(_ given: Suite, options: Options, tool: String, say: (String) -> Void = { _ in },
                           progress: (SuiteRunner.Progress) -> Void) throws -> SuiteRunner.Output {
        var suite = given
        suite.repetitions = options.pairs
        suite.spreadLimit = nil
        suite.maxRepetitions = nil
        // Calibrated once, here: both sides get the same fault work as a time.
        let calibration = try SuiteRunner.resolveCalibratedWork(&suite, say: say)
        let sides = [Side(label: "base", path: options.base), Side(label: "new", path: options.new)]
        let scratch = try Scratch()
        defer { scratch.remove() }

        let started = Clock.nanos()
        let elapsed = { Double(Clock.nanos() - started) / 1e9 }
        let total = suite.cellCount * options.pairs * 2
        var done = 0
        var cells: [BenchCell] = [], baseCells: [BenchCell] = [], abCells: [ABCell] = []
        var failures: [RunResult] = []
        var interruptedBy: String?
        var ignored: [String: String] = [:]

        groups: for w in suite.workloads {
            for t in suite.threads {
                var runs: [[String: [RunResult]]] = [[:], [:]]
                var reproduce: [String: [String]] = [:]
                for pair in 0..<options.pairs {
                    // Strategies forward in even pairs, backward in odd ones; base first in even pairs.
                    let strategies = pair % 2 == 0 ? suite.strategies : suite.strategies.reversed()
                    for s in strategies {
                        // Resolved, so the child's words are the run's own (memb for a strategy
                        // without RCU: a suite's rcu-flavor is for those with it).
                        let config = try suite.config(strategy: s, workload: w, threads: t, repetition: pair).resolve().config
                        let order = pair % 2 == 0 ? [0, 1] : [1, 0]
                        for side in order {
                            let per = done == 0 ? suite.durationSeconds + suite.warmupSeconds + 0.5 : elapsed() / Double(done)
                            progress(SuiteRunner.Progress(
                                run: done + 1, runs: total, cell: "\(w.label), \(t) thread(s), \(s), \(sides[side].label)",
                                repetition: pair + 1, elapsedSeconds: elapsed(), remainingSeconds: per * Double(total - done)))
                            let r = try runChild(sides[side], config, scratch: scratch)
                            done += 1
                            if r.verdict == .interrupted {
                                interruptedBy = r.interruptedBy ?? Runner.stopSignalName() ?? "SIGINT"
                                break groups
                            }
                            if r.verdict == .failure { failures.append(r) }
                            runs[side][s, default: []].append(r)
                        }
                        reproduce[s, default: []].append(config.commandLine)
                        if vms_stop_signal() != 0 { interruptedBy = Runner.stopSignalName(); break groups }
                    }
                }
                baseCells += SuiteRunner.finish(w, t, suite, runs[0], into: &ignored)
                cells += SuiteRunner.finish(w, t, suite, runs[1], into: &ignored)
                for s in suite.strategies {
                    abCells.append(ABCell(workload: w.label, threads: t, strategy: s,
                                          base: (runs[0][s] ?? []).map(\.countedOpsPerSecond),
                                          new: (runs[1][s] ?? []).map(\.countedOpsPerSecond),
                                          thresholdPercent: options.thresholdPercent, reproduce: reproduce[s] ?? []))
                }
            }
        }
        let ab = ABComparison(base: sides[0].described(), new: sides[1].described(), pairs: options.pairs,
                              thresholdPercent: options.thresholdPercent, confidence: PairedRatio.defaultConfidence,
                              cells: abCells, baseCells: baseCells)
        let result = BenchResult(
            tool: tool, createdAt: ISO8601DateFormatter().string(from: Date()), machine: .current(), suite: suite,
            complete: interruptedBy == nil, interruptedBy: interruptedBy, elapsedSeconds: elapsed(),
            cells: cells, scaling: BenchResult.scaling(cells), calibration: calibration, ab: ab)
        return SuiteRunner.Output(result: result, percentileFiles: [:], failures: failures)
    }

    /// A binary of one side.
    struct Side {
        var label: String
        var path: String

        func described() -> ABSide {
            ABSide(path: path, version: (try? ABRunner.version(of: path)) ?? "unknown")
        }
    }

    /// What `BINARY --version` prints: proof that it is a vmastress that runs here.
    public static func version(of path: String) throws -> String {
        let (status, out, err) = try spawn(path, ["--version"], stdout: true)
        guard status == 0, let line = out.split(separator: "\n").first else {
            throw Failed(description: "\(path) --version failed (exit \(status)\(err.isEmpty ? "" : ": " + firstLine(err))): not a vmastress binary")
        }
        return String(line)
    }

    /// Where the children write their results.json.
    final class Scratch: @unchecked Sendable {
        let dir: String
        var next = 0

        init() throws {
            var template = Array((NSTemporaryDirectory() + "/vmastress-ab-XXXXXX").utf8CString)
            guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
                throw Failed(description: "cannot make a temporary directory in \(NSTemporaryDirectory()): \(String(cString: strerror(errno)))")
            }
            dir = String(cString: made)
        }

        func file() -> String {
            next += 1
            return "\(dir)/run-\(next).json"
        }

        func remove() { try? FileManager.default.removeItem(atPath: dir) }
    }

    /// One repetition of one side: `BINARY run ... --json FILE`, read back.
    static func runChild(_ side: Side, _ config: RunConfig, scratch: Scratch) throws -> RunResult {
        let file = scratch.file()
        let args = ["run"] + config.runArguments + ["--json", file]
        let (status, _, err) = try spawn(side.path, args, stdout: false)
        defer { try? FileManager.default.removeItem(atPath: file) }
        // 0 success, 1 violation, 128+N interrupted: each writes its results.
        guard status == 0 || status == 1 || status > 128 else {
            let why = status == 2 ? "refused the cell's command line" : "failed (exit \(status))"
            throw Failed(description: "the \(side.label) binary \(side.path) \(why): \(firstLine(err)); command: \(config.commandLine)")
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw Failed(description: "the \(side.label) binary \(side.path) exited \(status) without writing \(file): \(firstLine(err))")
        }
        let decoded: ResultsFile
        do {
            decoded = try JSONDecoder().decode(ResultsFile.self, from: data)
        } catch {
            throw Failed(description: "the \(side.label) binary's results do not read as this build's schema "
                + "\(ResultsFile.schemaID) (\(error)); build the base from a commit whose results this one reads")
        }
        guard decoded.schema == ResultsFile.schemaID, let r = decoded.runs.first else {
            throw Failed(description: "the \(side.label) binary wrote schema \(decoded.schema) with \(decoded.runs.count) run(s); this build reads \(ResultsFile.schemaID)")
        }
        return r
    }

    /// Runs a program to its end; stdout is captured or discarded, stderr captured.
    static func spawn(_ path: String, _ args: [String], stdout: Bool) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = stdout ? out : FileHandle.nullDevice
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch { throw Failed(description: "cannot run \(path): \(error.localizedDescription)") }
        let o = stdout ? out.fileHandleForReading.readDataToEndOfFile() : Data()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus,
                String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    static func firstLine(_ s: String) -> String {
        s.split(separator: "\n").first.map { String($0).replacingOccurrences(of: "vmastress: error: ", with: "") } ?? "no message"
    }
}

/// One binary of an A/B bench.
public struct ABSide: Codable, Sendable {
    public var path: String
    public var version: String
}

/// One cell of an A/B bench: both sides' counted ops/s pair by pair.
public struct ABCell: Codable, Sendable {
    public var workload: String
    public var threads: Int
    public var strategy: String
    /// The suite's headline metric (`BenchMetric.opsPerSecond`), one value per pair.
    public var metric = BenchMetric.opsPerSecond.rawValue
    public var base: [Double]
    public var new: [Double]
    /// Which side ran first in each pair: "AB" (base first) or "BA".
    public var order: [String]
    /// new / base; nil when a side has no positive value in some pair.
    public var ratio: PairedRatio?
    public var verdict: PairedRatio.Verdict
    /// The `vmastress run` arguments of each pair (both sides ran the same).
    public var reproduce: [String]

    public init(workload: String, threads: Int, strategy: String, base: [Double], new: [Double],
                thresholdPercent: Double, reproduce: [String]) {
        self.workload = workload
        self.threads = threads
        self.strategy = strategy
        self.base = base
        self.new = new
        // ABBA: the base ran first in even pairs.
        order = reproduce.indices.map { $0 % 2 == 0 ? "AB" : "BA" }
        self.reproduce = reproduce
        ratio = PairedRatio(base: base, new: new)
        verdict = ratio?.verdict(thresholdPercent: thresholdPercent) ?? .tooFewPairs
    }

    /// The verdict again at another threshold (`compare`).
    public func verdict(thresholdPercent: Double) -> PairedRatio.Verdict {
        ratio?.verdict(thresholdPercent: thresholdPercent) ?? .tooFewPairs
    }
}

/// What an A/B bench adds to results.json: both sides, the order, the test, and each cell's verdict.
public struct ABComparison: Codable, Sendable {
    public var base: ABSide
    public var new: ABSide
    public var pairs: Int
    public var order = "ABBA: base first in even pairs, new first in odd ones; strategies forward, then backward"
    public var test = "paired t interval of the geometric mean ratio new/base over the pairs' log ratios, and the exact "
        + "two-sided Wilcoxon signed-rank test on them; slower or faster only when the interval excludes 1, "
        + "the signed-rank p is at most 0.05 and the ratio is beyond the threshold"
    public var thresholdPercent: Double
    public var confidence: Double
    public var cells: [ABCell]
    /// The base side's cells, summarised as the suite's (`BenchResult.cells` holds the new side's).
    public var baseCells: [BenchCell]

    public func count(_ v: PairedRatio.Verdict, thresholdPercent: Double? = nil) -> Int {
        cells.filter { $0.verdict(thresholdPercent: thresholdPercent ?? self.thresholdPercent) == v }.count
    }
}
