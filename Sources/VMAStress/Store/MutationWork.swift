import CSupport

/// `--mutation-work`: what a model mutation costs besides the model's own steps, so that the
/// ratio of fault cost to mutation cost is the kernel's (`vmastress calibrate` measures it).
/// Per system call: `syscall`, the entry and exit, spun before mmap_lock is taken; and for
/// each kind the kernel's work under mmap_lock (accounting, the VMA allocation, the zap,
/// free_pgtables and the TLB flush), spun at the end of the write section, before unlock.
/// Written `none` or `map=1.2us,unmap=2us,protect=900ns,remap=1us,syscall=100ns`; a kind left
/// out costs nothing.
public struct MutationWork: Equatable, Sendable, CodableAsText {
    public enum Kind: String, CaseIterable, Sendable, Codable {
        case map, unmap, protect, remap, syscall

        var cKind: Int32 {
            switch self {
            case .map: Int32(VMS_MUTATION_MAP)
            case .unmap: Int32(VMS_MUTATION_UNMAP)
            case .protect: Int32(VMS_MUTATION_PROTECT)
            case .remap: Int32(VMS_MUTATION_REMAP)
            case .syscall: Int32(VMS_MUTATION_SYSCALL)
            }
        }
    }

    /// Nanoseconds per call of each kind (0 for a kind left out).
    public private(set) var nanoseconds: [Kind: UInt64] = [:]

    public static let none = MutationWork()

    public init() {}

    public init(_ nanoseconds: [Kind: UInt64]) {
        for (k, v) in nanoseconds where v > 0 { self.nanoseconds[k] = v }
    }

    public subscript(_ kind: Kind) -> UInt64 { nanoseconds[kind] ?? 0 }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t == "none" || t.isEmpty { return }
        let kinds = Kind.allCases.map(\.rawValue).joined(separator: ", ")
        for part in t.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, let kind = Kind(rawValue: pair[0]) else {
                throw Invalid(description: "invalid --mutation-work '\(text)': write none, calibrated, or KIND=TIME pairs "
                    + "separated by commas, KIND one of \(kinds)")
            }
            guard nanoseconds[kind] == nil else {
                throw Invalid(description: "invalid --mutation-work '\(text)': \(kind.rawValue) is given twice")
            }
            let time: FaultWork
            do { time = try FaultWork(parsing: pair[1]) } catch {
                throw Invalid(description: "invalid --mutation-work '\(text)': \(kind.rawValue)=\(pair[1]) is not a time "
                    + "like 250ns or 1.5us (at most 1000us)")
            }
            switch time {
            case .none: nanoseconds[kind] = 0
            case let .nanoseconds(n): nanoseconds[kind] = n
            case .page:
                throw Invalid(description: "invalid --mutation-work '\(text)': \(kind.rawValue) takes a time, not page")
            }
        }
        nanoseconds = nanoseconds.filter { $0.value > 0 }
    }

    public var isNone: Bool { nanoseconds.isEmpty }

    public var description: String {
        isNone ? "none" : Kind.allCases.compactMap { k in nanoseconds[k].map { "\(k.rawValue)=\($0)ns" } }.joined(separator: ",")
    }

    /// Makes this the work of every model mutation from now on (before the workers start).
    public func install(nsPerTick: Double) {
        var ticks = [UInt64](repeating: 0, count: Int(VMS_MUTATION_KINDS))
        for (k, ns) in nanoseconds { ticks[Int(k.cKind)] = UInt64((Double(ns) / nsPerTick).rounded(.up)) }
        ticks.withUnsafeBufferPointer { vms_mutation_work_configure($0.baseAddress) }
    }

    /// Spins the work of `kind` (nothing when it is none): on the mutation path.
    @inline(__always)
    static func spin(_ kind: Kind) { vms_mutation_work(kind.cKind) }
}
