import CURCUBP
import CURCUMB
import CURCUMemb
import CURCUQSBR
import CURCUSignal

/// The liburcu flavors, selectable at run time (`--rcu-flavor`).
public enum RCUFlavorKind: String, CaseIterable, Codable, Sendable {
    /// Readers use membarrier(2): cheap read side, the default.
    case memb
    /// Quiescent-state based: free read side; readers must announce quiescent states.
    case qsbr
    /// Readers use full memory barriers.
    case mb
    /// Writers signal readers (SIGUSR1) instead of readers paying barriers.
    case signal
    /// Bulletproof: readers need no registration.
    case bp

    public var flavor: any RCUFlavor.Type {
        switch self {
        case .memb: return MembRCU.self
        case .qsbr: return QSBRRCU.self
        case .mb: return MBRCU.self
        case .signal: return SignalRCU.self
        case .bp: return BPRCU.self
        }
    }

    /// rcu_barrier from a registered reader thread outside its read sections
    /// (a QSBR reader goes offline around it, or the grace periods it waits for never end).
    public var readerBarrier: @convention(c) () -> Void {
        switch self {
        case .memb: return { MembRCU.barrier() }
        case .qsbr: return {
            QSBRRCU.threadOffline()
            QSBRRCU.barrier()
            QSBRRCU.threadOnline()
        }
        case .mb: return { MBRCU.barrier() }
        case .signal: return { SignalRCU.barrier() }
        case .bp: return { BPRCU.barrier() }
        }
    }

    /// Calls `visitor` with the flavor's type, so generic code is specialised per flavor.
    public func visit<V: RCUFlavorVisitor>(_ visitor: V) throws -> V.Result {
        switch self {
        case .memb: return try visitor.visit(MembRCU.self)
        case .qsbr: return try visitor.visit(QSBRRCU.self)
        case .mb: return try visitor.visit(MBRCU.self)
        case .signal: return try visitor.visit(SignalRCU.self)
        case .bp: return try visitor.visit(BPRCU.self)
        }
    }
}

/// Generic code over an RCU flavor, opened by `RCUFlavorKind.visit`.
public protocol RCUFlavorVisitor {
    associatedtype Result
    func visit<F: RCUFlavor>(_ flavor: F.Type) throws -> Result
}

/// One liburcu flavor behind one interface. Every thread that reads must
/// register first (bp registers itself on first use). QSBR readers must call
/// `quiescentState()` between read sections, and go offline before blocking.
public protocol RCUFlavor: Sendable {
    static var kind: RCUFlavorKind { get }
    static func registerThread()
    static func unregisterThread()
    static func readLock()
    static func readUnlock()
    static var readOngoing: Bool { get }
    static func quiescentState()
    static func threadOffline()
    static func threadOnline()
    /// Waits for every read-side section in progress to end.
    static func synchronize()
    /// Calls `callback(head)` on liburcu's call_rcu thread after a grace period.
    static func call(_ head: UnsafeMutableRawPointer, _ callback: @escaping @convention(c) (UnsafeMutableRawPointer?) -> Void)
    /// Waits until every callback queued so far has run (rcu_barrier).
    static func barrier()
}

public enum MembRCU: RCUFlavor {
    public static let kind = RCUFlavorKind.memb
    @inline(__always) public static func registerThread() { vms_memb_register_thread() }
    @inline(__always) public static func unregisterThread() { vms_memb_unregister_thread() }
    @inline(__always) public static func readLock() { vms_memb_read_lock() }
    @inline(__always) public static func readUnlock() { vms_memb_read_unlock() }
    @inline(__always) public static var readOngoing: Bool { vms_memb_read_ongoing() != 0 }
    @inline(__always) public static func quiescentState() { vms_memb_quiescent_state() }
    @inline(__always) public static func threadOffline() { vms_memb_thread_offline() }
    @inline(__always) public static func threadOnline() { vms_memb_thread_online() }
    public static func synchronize() { vms_memb_synchronize() }
    public static func call(_ head: UnsafeMutableRawPointer, _ callback: @escaping @convention(c) (UnsafeMutableRawPointer?) -> Void) {
        vms_memb_call_rcu(head, callback)
    }
    public static func barrier() { vms_memb_barrier() }
}

public enum QSBRRCU: RCUFlavor {
    public static let kind = RCUFlavorKind.qsbr
    @inline(__always) public static func registerThread() { vms_qsbr_register_thread() }
    @inline(__always) public static func unregisterThread() { vms_qsbr_unregister_thread() }
    @inline(__always) public static func readLock() { vms_qsbr_read_lock() }
    @inline(__always) public static func readUnlock() { vms_qsbr_read_unlock() }
    @inline(__always) public static var readOngoing: Bool { vms_qsbr_read_ongoing() != 0 }
    @inline(__always) public static func quiescentState() { vms_qsbr_quiescent_state() }
    @inline(__always) public static func threadOffline() { vms_qsbr_thread_offline() }
    @inline(__always) public static func threadOnline() { vms_qsbr_thread_online() }
    public static func synchronize() { vms_qsbr_synchronize() }
    public static func call(_ head: UnsafeMutableRawPointer, _ callback: @escaping @convention(c) (UnsafeMutableRawPointer?) -> Void) {
        vms_qsbr_call_rcu(head, callback)
    }
    public static func barrier() { vms_qsbr_barrier() }
}

public enum MBRCU: RCUFlavor {
    public static let kind = RCUFlavorKind.mb
    @inline(__always) public static func registerThread() { vms_mb_register_thread() }
    @inline(__always) public static func unregisterThread() { vms_mb_unregister_thread() }
    @inline(__always) public static func readLock() { vms_mb_read_lock() }
    @inline(__always) public static func readUnlock() { vms_mb_read_unlock() }
    @inline(__always) public static var readOngoing: Bool { vms_mb_read_ongoing() != 0 }
    @inline(__always) public static func quiescentState() { vms_mb_quiescent_state() }
    @inline(__always) public static func threadOffline() { vms_mb_thread_offline() }
    @inline(__always) public static func threadOnline() { vms_mb_thread_online() }
    public static func synchronize() { vms_mb_synchronize() }
    public static func call(_ head: UnsafeMutableRawPointer, _ callback: @escaping @convention(c) (UnsafeMutableRawPointer?) -> Void) {
        vms_mb_call_rcu(head, callback)
    }
    public static func barrier() { vms_mb_barrier() }
}

public enum SignalRCU: RCUFlavor {
    public static let kind = RCUFlavorKind.signal
    @inline(__always) public static func registerThread() { vms_signal_register_thread() }
    @inline(__always) public static func unregisterThread() { vms_signal_unregister_thread() }
    @inline(__always) public static func readLock() { vms_signal_read_lock() }
    @inline(__always) public static func readUnlock() { vms_signal_read_unlock() }
    @inline(__always) public static var readOngoing: Bool { vms_signal_read_ongoing() != 0 }
    @inline(__always) public static func quiescentState() { vms_signal_quiescent_state() }
    @inline(__always) public static func threadOffline() { vms_signal_thread_offline() }
    @inline(__always) public static func threadOnline() { vms_signal_thread_online() }
    public static func synchronize() { vms_signal_synchronize() }
    public static func call(_ head: UnsafeMutableRawPointer, _ callback: @escaping @convention(c) (UnsafeMutableRawPointer?) -> Void) {
        vms_signal_call_rcu(head, callback)
    }
    public static func barrier() { vms_signal_barrier() }
}

public enum BPRCU: RCUFlavor {
    public static let kind = RCUFlavorKind.bp
    @inline(__always) public static func registerThread() { vms_bp_register_thread() }
    @inline(__always) public static func unregisterThread() { vms_bp_unregister_thread() }
    @inline(__always) public static func readLock() { vms_bp_read_lock() }
    @inline(__always) public static func readUnlock() { vms_bp_read_unlock() }
    @inline(__always) public static var readOngoing: Bool { vms_bp_read_ongoing() != 0 }
    @inline(__always) public static func quiescentState() { vms_bp_quiescent_state() }
    @inline(__always) public static func threadOffline() { vms_bp_thread_offline() }
    @inline(__always) public static func threadOnline() { vms_bp_thread_online() }
    public static func synchronize() { vms_bp_synchronize() }
    public static func call(_ head: UnsafeMutableRawPointer, _ callback: @escaping @convention(c) (UnsafeMutableRawPointer?) -> Void) {
        vms_bp_call_rcu(head, callback)
    }
    public static func barrier() { vms_bp_barrier() }
}

/// rcu_dereference, rcu_assign_pointer, rcu_xchg_pointer: the same for every flavor.
public enum RCUPointer {
    /// Loads a pointer published with `assign` (a dependency-ordered load).
    @inline(__always)
    public static func dereference(_ slot: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> UnsafeMutableRawPointer? {
        vms_rcu_dereference(slot)
    }

    /// Publishes `value`: every store that initialised it is visible first (a release store).
    @inline(__always)
    public static func assign(_ slot: UnsafeMutablePointer<UnsafeMutableRawPointer?>, _ value: UnsafeMutableRawPointer?) {
        vms_rcu_assign_pointer(slot, value)
    }

    /// Publishes `value` and returns what was there (fully ordered).
    @inline(__always)
    public static func exchange(_ slot: UnsafeMutablePointer<UnsafeMutableRawPointer?>, _ value: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
        vms_rcu_xchg_pointer(slot, value)
    }
}
