import Synchronization

/// What the write side saw that only the checker can judge: reference-count
/// underflows (REF), PTEs a mutation found where none may be and PTEs that
/// changed under take-all-locks (STALE-PTE). Writers record; the checker's
/// audits take. A handle: copies share the counters.
public struct WriteEvidence: @unchecked Sendable {
    struct Counters: ~Copyable {
        let refUnderflows = Atomic<UInt64>(0)
        let lastUnderflowVMA = Atomic<UInt64>(0)
        /// In the hole a mutation maps (mmap, mremap's destination), or of a
        /// foreign generation in a VMA it moves or merges away.
        let holePTEs = Atomic<UInt64>(0)
        let lastHolePage = Atomic<UInt64>(0)
        let auditsHoles = Atomic<Bool>(true)
        let changedUnderAllLocks = Atomic<UInt64>(0)
        let lastChangedPage = Atomic<UInt64>(0)
        /// MAPPING checks a backend ran on its own calls (the kernel's sampled touches).
        let callChecks = Atomic<UInt64>(0)
    }

    let c: UnsafeMutablePointer<Counters>

    init() {
        // Away from anything a fault reads: writers bump these counters.
        precondition(MemoryLayout<Counters>.size <= 128)
        c = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 128).bindMemory(to: Counters.self, capacity: 1)
        c.initialize(to: Counters())
    }

    func destroy() {
        c.deinitialize(count: 1)
        c.deallocate()
    }

    /// Records a refcount underflow on `v` (a REF violation the checker reports).
    public func noteRefUnderflow(_ v: VMAPtr) {
        c.pointee.lastUnderflowVMA.store(v.id, ordering: .relaxed)
        c.pointee.refUnderflows.wrappingAdd(1, ordering: .relaxed)
    }

    public var refUnderflows: (count: UInt64, lastVMAID: UInt64) {
        (c.pointee.refUnderflows.load(ordering: .relaxed), c.pointee.lastUnderflowVMA.load(ordering: .relaxed))
    }

    /// Whether mutations look for PTEs in the holes they map (`--check` full
    /// or light), set before the run starts.
    public var auditsHoles: Bool { c.pointee.auditsHoles.load(ordering: .relaxed) }
    public func setAuditsHoles(_ on: Bool) { c.pointee.auditsHoles.store(on, ordering: .relaxed) }

    /// Records a PTE found where a mutation expected none.
    public func noteHolePTE(_ page: UInt64) {
        c.pointee.lastHolePage.store(page, ordering: .relaxed)
        c.pointee.holePTEs.wrappingAdd(1, ordering: .relaxed)
    }

    /// The hole PTEs recorded since the last call (each is reported once).
    public func takeHolePTEs() -> (count: UInt64, lastPage: UInt64) {
        (c.pointee.holePTEs.exchange(0, ordering: .relaxed), c.pointee.lastHolePage.load(ordering: .relaxed))
    }

    /// Records a PTE that changed while take-all-locks held every lock.
    public func noteChangedUnderAllLocks(_ page: UInt64) {
        c.pointee.lastChangedPage.store(page, ordering: .relaxed)
        c.pointee.changedUnderAllLocks.wrappingAdd(1, ordering: .relaxed)
    }

    /// A backend checked what one of its calls did (MAPPING's evaluations, for the report).
    public func noteCallChecked() { c.pointee.callChecks.wrappingAdd(1, ordering: .relaxed) }
    public var callChecks: UInt64 { c.pointee.callChecks.load(ordering: .relaxed) }

    /// Those recorded since the last call.
    public func takeChangedUnderAllLocks() -> (count: UInt64, lastPage: UInt64) {
        (c.pointee.changedUnderAllLocks.exchange(0, ordering: .relaxed), c.pointee.lastChangedPage.load(ordering: .relaxed))
    }
}
