import Glibc
import Synchronization

/// The named places in the read-side protocols where another thread can
/// race with a fault, one between each pair of steps (docs/strategies.md
/// lists where each sits in each strategy). Under `--check full` a fault
/// that passes one stalls now and then (`FaultContext.delay`), so every
/// window opens; the run reports how often each point was passed and fired,
/// as rcutorture's Reader Batch shows that readers ran.
public enum ReadPoint: Int, CaseIterable, Sendable {
    /// SRCU: srcu_read_lock read the index, its count not yet raised. A
    /// fired pass here is a reader preempted twice: a long stall (a grace
    /// period can pass) and another one at after-pin, past its lookup (the
    /// next can start), the window synchronize_srcu's first wait exists for.
    case insideReadLock
    /// A walk of the index is on a node: after each level of the rbtree or
    /// B-tree descent, the next node not yet read. A node a writer frees
    /// without waiting for readers is freed under the walker here.
    case inWalk
    /// The lookup found a VMA; nothing pins it yet but the read section (SRCU, RCU, tree lock).
    case afterLookup
    /// The VMA is pinned (a reference, the per-VMA read lock), not yet validated.
    case afterPin
    /// Between two checks of one validation (seqcount read, fields not yet read nor
    /// re-checked; vm_lock_seq compared once, the trylock and the second compare not yet done).
    case betweenChecks
    /// Validated, the PTL not yet taken.
    case beforePTL
    /// Under the PTL, past the commit check, the PTE not yet written.
    case underPTL
    /// The PTE written and the PTL dropped; the pin not yet released.
    case afterCommit
    /// The walk met a detached VMA and left its read section; it has not
    /// walked again. Now and then the reader waits here for every deferred
    /// free queued so far (rcu_barrier): the nodes it walked are freed.
    case beforeRetry
    /// The reference dropped on a VMA a writer waits on; the writer's mm not
    /// yet woken (`vma_refcount_put`). When that mm is another process's,
    /// the reader stays until it is destroyed (at most 50 ms).
    case beforeWake

    public var name: String {
        switch self {
        case .insideReadLock: return "inside-read-lock"
        case .inWalk: return "in-walk"
        case .afterLookup: return "after-lookup"
        case .afterPin: return "after-pin"
        case .betweenChecks: return "between-checks"
        case .beforePTL: return "before-ptl"
        case .underPTL: return "under-ptl"
        case .afterCommit: return "after-commit"
        case .beforeRetry: return "before-retry"
        case .beforeWake: return "before-wake"
        }
    }
}

/// The write side's points: between a writer's store and the step that
/// publishes or releases it (`WriterProbes.delay`), and inside SRCU's grace period.
public enum WritePoint: Int, CaseIterable, Sendable {
    /// A tree insert or erase is stored; the mm seqlock or tree lock is not yet released.
    case treeStored
    /// A reachable VMA's fields changed inside its write section; the section not yet ended.
    case fieldsChanged
    /// A VMA is unlinked; its PTEs not yet zapped.
    case unlinkedBeforeZap
    /// mremap: the new VMA is reachable; page tables not yet moved into it.
    case linkedBeforeMove
    /// A VMA's write section ended; it is not yet retired (freed or queued).
    case beforeRetire
    /// Per-VMA locks: vm_lock_seq set under the VMA's lock; the lock not yet dropped.
    case lockSeqSet
    /// mmap_write_unlock: mm_lock_seq bumped (every VMA unlocked); mmap_lock not yet released.
    case afterLockSeqBump
    /// synchronize_srcu: the inactive index drained; the index not yet flipped.
    case srcuBeforeFlip
    /// synchronize_srcu: the index flipped; the old index not yet drained.
    case srcuAfterFlip
    /// mmap_write_unlock returned: mmap_lock released, the writer's next step
    /// not yet taken. A step that belongs before the release and was moved
    /// past it is seen undone here, by the next writer and the readers.
    case afterMMapUnlock

    public var name: String {
        switch self {
        case .treeStored: return "tree-stored"
        case .fieldsChanged: return "fields-changed"
        case .unlinkedBeforeZap: return "unlinked-before-zap"
        case .linkedBeforeMove: return "linked-before-move"
        case .beforeRetire: return "before-retire"
        case .lockSeqSet: return "lock-seq-set"
        case .afterLockSeqBump: return "after-lock-seq-bump"
        case .srcuBeforeFlip: return "srcu-before-flip"
        case .srcuAfterFlip: return "srcu-after-flip"
        case .afterMMapUnlock: return "after-mmap-unlock"
        }
    }

    /// One pass in `1 << shift` stalls for `nanos`: one mremap in 4 holds
    /// the window that needs it, other points one pass in 16. Past
    /// mmap_lock's release the stall outlasts the next writer's wake-up from
    /// its futex wait (tens of µs), so that writer runs inside the window.
    var firing: (shift: UInt64, nanos: UInt64) {
        switch self {
        case .afterMMapUnlock: return (4, 50_000)
        case .linkedBeforeMove: return (2, 10_000)
        case .srcuBeforeFlip, .srcuAfterFlip: return (2, 20_000)
        default: return (4, 5_000)
        }
    }
}

/// Counts of the write-side points, shared by every writer of a run (and the
/// SRCU grace-period worker): passes and firings per point.
public struct WriteDelays: @unchecked Sendable {
    let counters: UnsafeMutablePointer<Atomic<UInt64>>
    let flag: UnsafeMutablePointer<Atomic<Bool>>
    static let slots = 2 * WritePoint.allCases.count

    public init() {
        counters = .allocate(capacity: Self.slots)
        for i in 0..<Self.slots { (counters + i).initialize(to: Atomic(0)) }
        flag = .allocate(capacity: 1)
        flag.initialize(to: Atomic(false))
    }

    public func destroy() {
        counters.deallocate()
        flag.deallocate()
    }

    public func setEnabled(_ on: Bool) { flag.pointee.store(on, ordering: .relaxed) }

    /// Passes `point`; now and then stalls there (see `WritePoint.firing`).
    @inline(__always)
    public func pass(_ point: WritePoint) {
        guard flag.pointee.load(ordering: .relaxed) else { return }
        passSlow(point)
    }

    @inline(never)
    func passSlow(_ point: WritePoint) {
        let (shift, nanos) = point.firing
        let n = counters[2 * point.rawValue].wrappingAdd(1, ordering: .relaxed).oldValue
        if n & ((1 << shift) - 1) == 0 {
            counters[2 * point.rawValue + 1].wrappingAdd(1, ordering: .relaxed)
            spin(nanos: nanos)
        }
    }

    public func passes(_ p: WritePoint) -> UInt64 { counters[2 * p.rawValue].load(ordering: .relaxed) }
    public func fired(_ p: WritePoint) -> UInt64 { counters[2 * p.rawValue + 1].load(ordering: .relaxed) }
}

/// Busy-waits `nanos` (a stall that keeps the CPU, as a preempted-but-running reader would).
@inline(never)
func spin(nanos: UInt64) {
    let until = Clock.nanos() + nanos
    while Clock.nanos() < until { spinHint() }
}

/// A test's hand on the read side: called at every point a fault passes,
/// with the point and the context the test gave. Tests use it to force an
/// interleaving (hold a fault under its PTL while a mutation runs).
public typealias ReadPointHook = @convention(c) (Int32, UnsafeMutableRawPointer?) -> Void

/// The delay-point counts a run reports (passes and firings per point).
public struct DelayPointCounts: Codable, Sendable, Equatable {
    public struct Point: Codable, Sendable, Equatable {
        public var point: String
        public var passes: UInt64
        public var fired: UInt64
    }

    public var read: [Point]
    public var write: [Point]

    /// One line each side: `name fired/passes`.
    public var lines: [String] {
        func line(_ title: String, _ ps: [Point]) -> String? {
            let used = ps.filter { $0.passes > 0 }
            return used.isEmpty ? nil : "\(title): " + used.map { "\($0.point) \($0.fired)/\($0.passes)" }.joined(separator: ", ")
        }
        return [line("read delay points (fired/passed)", read), line("write delay points (fired/passed)", write)].compactMap { $0 }
    }
}
