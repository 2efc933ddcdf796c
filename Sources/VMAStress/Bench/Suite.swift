import Foundation

/// A benchmark suite: strategies x workloads x thread counts x repetitions.
/// Suites are text files in `bench/suites/` (format in bench/README.md):
///
///     # comment
///     strategies  = mmap-lock, spf-srcu, per-vma-lock
///     workloads   = page-fault, read-mostly
///     workload    = stress mmap=50,munmap=50    (one workload with a --mix)
///     threads     = 1, 2
///     vmas        = 256, 4096, 65530        (each workload at each --vmas)
///     repetitions = 3
///     duration    = 2s
public struct Suite: Codable, Sendable, Equatable {
    /// One workload of the suite: a preset, an optional `--mix` on top and an optional `--vmas`.
    public struct WorkloadSpec: Codable, Sendable, Equatable {
        public var preset: Workload
        public var mix: String?
        public var vmas: Int?

        public init(_ preset: Workload, mix: String? = nil, vmas: Int? = nil) {
            self.preset = preset
            self.mix = mix
            self.vmas = vmas
        }

        /// How cells and files name it: the preset, plus the mix and the VMA count if any.
        public var label: String { Self.label(base: baseLabel, vmas: vmas) }
        /// The label without the VMA count: what the cost-against-VMA-count charts group by.
        public var baseLabel: String { mix.map { "\(preset.rawValue)+\($0)" } ?? preset.rawValue }

        /// `read-mostly@4096-vmas`.
        public static func label(base: String, vmas: Int?) -> String { base + (vmas.map { "@\($0)-vmas" } ?? "") }

        /// A label's base and VMA count.
        public static func split(label: String) -> (base: String, vmas: Int?) {
            guard let at = label.range(of: "@", options: .backwards), label.hasSuffix("-vmas"),
                  let n = Int(label[at.upperBound...].dropLast(5)) else { return (label, nil) }
            return (String(label[..<at.lowerBound]), n)
        }
    }

    public var name: String
    public var description = ""
    /// Every correct strategy that runs several threads (from the registry).
    public var strategies: [String] = StrategyRegistry.correct.filter { $0.info.maxWorkers == nil }.map(\.info.name)
    public var workloads: [WorkloadSpec] = []
    /// Faulter counts (for page-fault and ebizzy, the threads that map and fault).
    public var threads: [Int] = [1, 2]
    /// `--vmas` counts each workload runs at (the `vma-count` suite); nil: the layout's own.
    public var vmas: [Int]?
    /// Mutators per cell; nil: each workload's own (1, or 0 for page-fault and ebizzy).
    public var mutators: Int?
    public var repetitions = 3
    public var durationSeconds = 2.0
    public var warmupSeconds = 0.5
    public var check = CheckLevel.light
    public var seed: UInt64 = 1
    public var rcuFlavor = RCUFlavorKind.memb
    /// The strategy every ratio is taken against.
    public var baseline = "mmap-lock"
    /// `--fault-work` of every cell (none, page, a time), or `calibrated`:
    /// measured against this machine's kernel when the suite starts
    /// (`Calibration`). nil: none.
    public var faultWork: String?
    /// `--mutation-work` of every cell (none, KIND=TIME pairs), or `calibrated`: measured with
    /// the fault work when the suite starts. nil: none.
    public var mutationWork: String?
    /// Operations a second each mutator starts (`--mutation-rate`); nil or 0: flat out.
    public var mutationRate: Double?
    /// A cell whose repetitions spread more than `spreadLimit` ((max - min) /
    /// median of its ops/s) gets more repetitions, up to this many in all;
    /// nil: `repetitions` only.
    public var maxRepetitions: Int?
    public var spreadLimit: Double?

    public init(name: String) { self.name = name }

    /// The confidence of each cell's ratio to the baseline (`BenchCell.ratioInterval`).
    public static let ratioConfidence = 0.95

    /// A line and field of a suite file that could not be read.
    public struct ParseError: Error, CustomStringConvertible {
        public let file: String
        public let line: Int
        public let field: String
        public let message: String
        public var description: String { "\(file):\(line): \(field): \(message)" }
    }

    public static let keys = ["name", "description", "strategies", "workloads", "workload", "threads", "vmas", "mutators",
                              "repetitions", "duration", "warmup", "check", "seed", "rcu-flavor", "baseline",
                              "fault-work", "mutation-work", "mutation-rate", "max-repetitions", "spread"]

    /// Reads a suite file; every error names the file, line and field.
    public static func load(path: String) throws -> Suite {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ParseError(file: path, line: 0, field: "file", message: "cannot be read")
        }
        let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return try read(data, file: path, name: stem)
    }

    /// Reads a suite file's bytes (`file` names it in errors).
    public static func read(_ data: Data, file: String, name: String) throws -> Suite {
        try parse(try text(of: data, file: file), file: file, name: name)
    }

    /// The file's text: UTF-8 without a byte-order mark, no control
    /// characters but tabs and line ends. Anything else is an error that
    /// shows the offending byte escaped, never raw.
    static func text(of data: Data, file: String) throws -> String {
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        var line = 1
        for (i, b) in bytes.enumerated() {
            if b == 0x0A { line += 1 }
            if b < 0x20 && b != 0x09 && b != 0x0A && b != 0x0D || b == 0x7F {
                throw ParseError(file: file, line: line, field: "file",
                                 message: "not a text file (byte \(String(format: "0x%02X", b)) at offset \(i))")
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ParseError(file: file, line: 0, field: "file", message: "not UTF-8 text")
        }
        return text
    }

    /// Parses suite text; `validate` also checks that every cell is a valid run.
    public static func parse(_ text: String, file: String, name: String, validate: Bool = true) throws -> Suite {
        var suite = Suite(name: name)
        var seenWorkloads = false
        var firstLine: [String: Int] = [:]
        // CRLF and CR line ends read as LF ("\r\n" is one Character: split after replacing it).
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false)
        for (n, raw) in lines.enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let fail = { (field: String, message: String) in ParseError(file: file, line: n + 1, field: field, message: message) }
            guard let eq = line.firstIndex(of: "=") else {
                throw fail(line.trimmingCharacters(in: .whitespaces), "expected 'key = value'")
            }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            guard keys.contains(key) else { throw fail(key, "unknown field; fields are \(keys.joined(separator: ", "))") }
            if key != "workload", let first = firstLine[key] {
                throw fail(key, "given twice, on lines \(first) and \(n + 1)")
            }
            firstLine[key] = n + 1
            guard !value.isEmpty else { throw fail(key, "needs a value") }
            let items = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            func number(_ s: String, _ range: ClosedRange<Int>) throws -> Int {
                guard let v = Int(s), range.contains(v) else {
                    throw fail(key, "'\(s)' is not a whole number from \(range.lowerBound) to \(range.upperBound)")
                }
                return v
            }
            // Twice in a list is two cells of one name, which a comparison could only pick between.
            func once<T: Hashable>(_ xs: [T]) throws -> [T] {
                var seen = Set<T>()
                if let twice = xs.first(where: { !seen.insert($0).inserted }) { throw fail(key, "'\(twice)' is listed twice") }
                return xs
            }
            func seconds(_ s: String) throws -> Double {
                do { return try DurationText.seconds(s) } catch { throw fail(key, "\(error)") }
            }
            switch key {
            case "name":
                // It names the default output directory (results/bench-NAME): one plain component.
                guard value.utf8.count <= 100, !value.hasPrefix("."),
                      value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
                    throw fail(key, "'\(value)' must be up to 100 letters, digits, '-', '_' or '.', not starting with '.'")
                }
                suite.name = value
            case "description": suite.description = value
            case "strategies":
                for s in items {
                    guard let e = StrategyRegistry.suiteItem(s)?.entry else { throw fail(key, "unknown strategy '\(s)'") }
                    guard e.info.maxWorkers == nil else { throw fail(key, "'\(s)' runs one thread only; it cannot join a suite") }
                }
                suite.strategies = try once(items)
            case "workloads", "workload":
                if !seenWorkloads { suite.workloads = [] }
                seenWorkloads = true
                let specs: [(String, String?)] = key == "workloads"
                    ? items.map { ($0, nil) }
                    : [value.split(separator: " ", maxSplits: 1).map(String.init)].map { ($0[0], $0.count > 1 ? $0[1].trimmingCharacters(in: .whitespaces) : nil) }
                for (w, mix) in specs {
                    guard let preset = Workload(rawValue: w) else {
                        throw fail(key, "unknown workload '\(w)'; workloads are \(Workload.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    if let mix {
                        var m = preset.mix
                        do { try m.apply(spec: mix) } catch { throw fail(key, "\(error)") }
                    }
                    let spec = WorkloadSpec(preset, mix: mix)
                    if suite.workloads.contains(where: { $0.label == spec.label }) { throw fail(key, "'\(spec.label)' is listed twice") }
                    suite.workloads.append(spec)
                }
            case "threads": suite.threads = try once(items.map { try number($0, 1...256) })
            case "vmas": suite.vmas = try once(items.map { try number($0, 1...RunConfig.maxVMAs) })
            case "mutators": suite.mutators = try number(value, 0...64)
            case "repetitions": suite.repetitions = try number(value, 1...100)
            case "duration":
                suite.durationSeconds = try seconds(value)
                guard suite.durationSeconds > 0 else { throw fail(key, "must be more than zero") }
            case "warmup": suite.warmupSeconds = try seconds(value)
            case "check":
                guard let c = CheckLevel(rawValue: value) else { throw fail(key, "'\(value)' is not full, light or off") }
                suite.check = c
            case "seed":
                guard let s = UInt64(value) else { throw fail(key, "'\(value)' is not a whole number") }
                suite.seed = s
            case "rcu-flavor":
                guard let f = RCUFlavorKind(rawValue: value) else {
                    throw fail(key, "'\(value)' is not one of \(RCUFlavorKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                suite.rcuFlavor = f
            case "baseline": suite.baseline = value
            case "fault-work":
                if value != "calibrated" {
                    do { _ = try FaultWork(parsing: value) } catch { throw fail(key, "'\(value)' is not none, page, a time like 250ns, or calibrated") }
                }
                suite.faultWork = value
            case "mutation-work":
                if value != "calibrated" {
                    do { _ = try MutationWork(parsing: value) } catch {
                        throw fail(key, "'\(value)' is not none, KIND=TIME pairs such as map=1us,unmap=2us, or calibrated")
                    }
                }
                suite.mutationWork = value
            case "mutation-rate":
                guard let r = Double(value), r == 0 || (1...RunConfig.maxMutationRate).contains(r) else {
                    throw fail(key, "'\(value)' is not 0 (flat out) or operations a second from 1 to \(Int(RunConfig.maxMutationRate))")
                }
                suite.mutationRate = r
            case "max-repetitions": suite.maxRepetitions = try number(value, 1...100)
            case "spread":
                guard value.hasSuffix("%"), let p = Double(value.dropLast()), p > 0, p <= 1000 else {
                    throw fail(key, "'\(value)' is not a percentage like 10%")
                }
                suite.spreadLimit = p / 100
            default: break
            }
        }
        if suite.workloads.isEmpty { suite.workloads = [WorkloadSpec(.stress)] }
        if let counts = suite.vmas {
            suite.workloads = suite.workloads.flatMap { w in counts.map { WorkloadSpec(w.preset, mix: w.mix, vmas: $0) } }
        }
        if validate { try suite.validateCells(file: file) }
        return suite
    }

    /// Checks the baseline is measured and every cell is a valid run.
    public func validateCells(file: String) throws {
        let suite = self
        if !suite.strategies.contains(suite.baseline) {
            throw ParseError(file: file, line: 0, field: "baseline",
                             message: "'\(suite.baseline)' is not among the strategies, so no ratio could be taken")
        }
        // Every cell must be a valid run.
        for w in suite.workloads {
            for t in suite.threads {
                for s in suite.strategies {
                    do { try suite.config(strategy: s, workload: w, threads: t, repetition: 0).validate() } catch {
                        throw ParseError(file: file, line: 0, field: "cell \(s) \(w.label) \(t) thread(s)", message: "\(error)")
                    }
                }
            }
        }
    }

    /// The spread of a cell's ops/s over its repetitions, as `spread` judges it.
    func spread(_ rates: [Double]) -> Double { Stat(rates, higherIsBetter: true).coreSpread(repetitions) }

    /// Which of a cell's runs (by index) its statistics are over: all of
    /// them, unless a `spread` limit gave it extra repetitions; then the
    /// suite's `repetitions` runs whose ops/s are nearest their median (the
    /// rest were the seconds a neighbour took the other core).
    func keptRuns(_ rates: [Double]) -> [Int] {
        guard spreadLimit != nil, rates.count > repetitions else { return Array(rates.indices) }
        return Stat(rates, higherIsBetter: true).nearestMedian(repetitions)
    }

    /// After `done` repetitions with these ops/s: run the cell again (its
    /// spread is beyond the limit and the cap is not reached).
    func wantsMore(_ rates: [Double], after done: Int) -> Bool {
        guard let limit = spreadLimit, let cap = maxRepetitions, done < cap, rates.count == done else { return false }
        return spread(rates) > limit
    }

    public var cellCount: Int { strategies.count * workloads.count * threads.count }
    public var runCount: Int { cellCount * repetitions }

    /// The run for one repetition of one cell. Repetitions use different
    /// seeds (`seed + repetition`); strategies share them.
    public func config(strategy: String, workload: WorkloadSpec, threads: Int, repetition: Int) throws -> RunConfig {
        var mix = workload.preset.mix
        if let spec = workload.mix { try mix.apply(spec: spec) }
        let item = StrategyRegistry.suiteItem(strategy)
        var c = RunConfig(strategy: item?.entry.info.name ?? strategy, faulters: threads,
                          mutators: mutators.map { workload.preset.privateRegions ? 0 : $0 } ?? workload.preset.defaultMutators,
                          durationSeconds: durationSeconds, warmupSeconds: warmupSeconds,
                          seed: seed &+ UInt64(repetition), mix: mix,
                          rcuFlavor: rcuFlavor, check: check)
        c.workload = workload.preset
        c.layout = Layout.sized(for: workload.preset, faulters: threads).holding(vmas: workload.vmas)
        c.vmas = workload.vmas
        c.processes = item?.processes == true
        c.mutationRate = mutationRate ?? 0
        if let faultWork, faultWork != "calibrated" { c.faultWork = try FaultWork(parsing: faultWork) }
        if let mutationWork, mutationWork != "calibrated" { c.mutationWork = try MutationWork(parsing: mutationWork) }
        return c
    }
}
