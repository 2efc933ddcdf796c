import CURCUMemb

/// liburcu's memb flavor (readers use membarrier; no signal, no quiescent
/// state calls). Every thread that reads must register first.
///
/// The read-side calls inline liburcu's `_LGPL_SOURCE` fast path.
public enum RCU {
    @inline(__always) public static func registerThread() { vms_memb_register_thread() }
    @inline(__always) public static func unregisterThread() { vms_memb_unregister_thread() }
    @inline(__always) public static func readLock() { vms_memb_read_lock() }
    @inline(__always) public static func readUnlock() { vms_memb_read_unlock() }
    @inline(__always) public static var readOngoing: Bool { vms_memb_read_ongoing() != 0 }
    /// Waits for every read-side section in progress to end.
    public static func synchronize() { vms_memb_synchronize() }
    /// Queues `callback` to run on liburcu's call_rcu thread after a grace period.
    public static func call(
        _ head: UnsafeMutablePointer<rcu_head>,
        _ callback: @convention(c) (UnsafeMutablePointer<rcu_head>?) -> Void
    ) {
        vms_memb_call_rcu(head, callback)
    }
    /// Waits until every callback queued so far has run (rcu_barrier).
    public static func barrier() { vms_memb_barrier() }
}
