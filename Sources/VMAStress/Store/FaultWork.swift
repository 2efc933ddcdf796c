import CSupport

/// `--fault-work`: what a fault does besides its locking when it installs a
/// new PTE, before it takes the PTL (where the kernel's do_anonymous_page
/// allocates and clears the page). `none` keeps faults cheap (more races a
/// second, for stress); `page` clears a real 4 KiB page from a per-thread
/// 1 MiB pool; `Nns` spins that long (what `vmastress calibrate` prints).
public enum FaultWork: Equatable, Sendable, CodableAsText {
    case none
    case page
    case nanoseconds(UInt64)

    /// The longest spin a fault may do.
    public static let maxNanoseconds: UInt64 = 1_000_000

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// `none`, `page`, or a duration in ns or us (`250ns`, `1.5us`); 0 is `none`.
    public init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        switch t {
        case "none": self = .none
        case "page": self = .page
        default:
            var number = Substring(t), scale = 1.0
            if t.hasSuffix("ns") { number = t.dropLast(2) } else if t.hasSuffix("us") { number = t.dropLast(2); scale = 1000 }
            guard t.hasSuffix("ns") || t.hasSuffix("us"), let v = Double(number), v.isFinite, v >= 0 else {
                throw Invalid(description: "invalid --fault-work '\(text)': write none, page, or a time like 250ns or 1us")
            }
            let ns = v * scale
            guard ns <= Double(Self.maxNanoseconds) else {
                throw Invalid(description: "invalid --fault-work '\(text)': the longest is 1000us")
            }
            self = ns < 1 ? .none : .nanoseconds(UInt64(ns.rounded()))
        }
    }

    public var description: String {
        switch self {
        case .none: return "none"
        case .page: return "page"
        case let .nanoseconds(n): return "\(n)ns"
        }
    }

    /// Makes this the work of every fault from now on (before the workers start).
    public func install(nsPerTick: Double) {
        switch self {
        case .none: vms_fault_work_configure(Int32(VMS_FAULT_WORK_NONE), 0)
        case .page: vms_fault_work_configure(Int32(VMS_FAULT_WORK_PAGE), 0)
        case let .nanoseconds(n):
            vms_fault_work_configure(Int32(VMS_FAULT_WORK_SPIN), UInt64((Double(n) / nsPerTick).rounded(.up)))
        }
    }

    /// On a worker thread before its first fault: the page pool, so no fault allocates it.
    public static func threadStart() {
        if vms_fault_work_mode() == Int32(VMS_FAULT_WORK_PAGE) { _ = vms_fault_work_thread_init() }
    }
}

extension PageTable.Table {
    /// The fault's work for a PTE this fault is about to install (nothing
    /// for one already present), before the PTL.
    @inline(__always)
    func faultWork(_ slot: Int) {
        // The PTE first: it is mostly present and in cache (the PTL section reads it again).
        if !pte(slot).isPresent {
            let mode = vms_fault_work_mode()
            if mode != Int32(VMS_FAULT_WORK_NONE) { vms_fault_work_slow(mode) }
        }
    }
}
