/// The lockless fault, written once. Every strategy whose faults try to
/// run without mmap_lock (the SPF family, per-VMA locks) supplies its
/// steps; this path orders them, counts them, passes the delay points
/// between them, runs the inline checks and falls back to mmap_lock:
///
///     enter the fault's read side (SRCU)
///     repeat: enter the lookup's read side; look up; (anonymous VMAs only:
///             give up on a file-backed one); pin; leave it
///             (again while the mm seqlock moved, for strategies that retry;
///             again with the walk reset when the pin found the VMA detached)
///     confirm what the pin holds, outside the lookup's read side (6.15's range check)
///     validate and commit under the PTL
///     re-check; unpin; leave the fault's read side
///     on any abort: the classic fault under mmap_lock
///
/// Each strategy's file reads top to bottom against its kernel protocol; a
/// busted twin overrides one step (`BustedLocklessTwin`).
public protocol LocklessSteps: Strategy {
    /// What leaving the fault's read side needs (an SRCU index; nothing for the others).
    associatedtype Section
    /// The lookup is retried while the mm seqlock moves (SPF's mm->mm_seq).
    static var lookupRetriesOnMMSeq: Bool { get }
    /// The lockless path takes anonymous VMAs only and falls back on a
    /// mapping of a file (SPF v9 to v12, per-VMA locks in 6.4).
    static var anonymousOnly: Bool { get }
    /// VMAs go back to a type-safe cache at once (SLAB_TYPESAFE_BY_RCU): a
    /// lookup may find a freed or reused record and the pin decides; the
    /// instance the fault then holds is the one pinned, and it checks REUSE
    /// where it acts.
    static var typeSafeVMAs: Bool { get }

    /// Enters the read side that spans the whole fault (srcu_read_lock).
    func enterFault(_ ctx: inout FaultContext) -> Section
    /// The read side the lookup and the pin run under (rcu_read_lock, the tree's read lock).
    func enterLookup()
    func leaveLookup()
    /// The tree walk, inside the lookup's read side. `retrying`: a pin
    /// before it said `.retry` and the read side was left since, so a walk
    /// state kept from before may point at freed nodes.
    func lookup(_ page: UInt64, retrying: Bool, _ ctx: inout FaultContext) -> VMAPtr?
    /// Inside the lookup's read side, with `v` found: the checks that must
    /// run there, then the pin (a reference, the VMA's read lock).
    func pin(_ v: VMAPtr, id: UInt64, _ page: UInt64, _ ctx: inout FaultContext) -> PinOutcome
    /// Drops a pin the fault will not use, after the lookup's read side was
    /// left (`PinOutcome.drop`); a result when that broke an invariant.
    func release(_ v: VMAPtr, _ ctx: inout FaultContext) -> FaultResult?
    /// Pinned, the lookup's read side left: checks that must come after it
    /// (nil: go on; else the pin is dropped and the fault falls back).
    func confirm(_ v: VMAPtr, _ page: UInt64, _ ctx: inout FaultContext) -> FaultEvent?
    /// Checks what was read and installs the PTE under the PTL; nil: abort
    /// (the reason is counted in `ctx`).
    func validateAndCommit(_ v: VMAPtr, id: UInt64, _ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult?
    /// After the commit, still pinned: the re-checks (reader pipe, UAF).
    func recheck(_ v: VMAPtr, id: UInt64, _ ctx: inout FaultContext) -> FaultResult?
    /// Drops the pin; `aborted` when the fault goes on to the fallback or the lookup is retried.
    func unpin(_ v: VMAPtr, aborted: Bool)
    func leaveFault(_ s: Section)
}

/// What a pin step came to.
public enum PinOutcome {
    case pinned
    /// Not pinned: fall back to mmap_lock, counting why.
    case failed(FaultEvent)
    /// Not pinned, the VMA was detached under the walk: leave the read side,
    /// count it, walk again from the root (lock_vma_under_rcu's -EAGAIN).
    case retry(FaultEvent)
    /// Pinned, but not to be used: leave the read side, `release` the pin,
    /// fall back (6.15's VMA of another mm, dropped outside rcu_read_lock).
    case drop(FaultEvent)
    /// A check inside the read side failed: the fault reports it.
    case violation(FaultResult)
}

extension LocklessSteps {
    public static var typeSafeVMAs: Bool { false }
    @inline(__always)
    public func lookup(_ page: UInt64, retrying: Bool, _ ctx: inout FaultContext) -> VMAPtr? { ctx.find(mm, page) }
    @inline(__always) public func confirm(_ v: VMAPtr, _ page: UInt64, _ ctx: inout FaultContext) -> FaultEvent? { nil }
    @inline(__always) public func release(_ v: VMAPtr, _ ctx: inout FaultContext) -> FaultResult? {
        unpin(v, aborted: true)
        return nil
    }

    @inline(__always)
    public func locklessFault(_ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult {
        ctx.note(.speculativeAttempt)
        let section = enterFault(&ctx)
        var found: VMAPtr?
        var id: UInt64 = 0
        var outcome = PinOutcome.failed(.abortNotFound)
        var retrying = false
        while true {
            let s = Self.lookupRetriesOnMMSeq ? mm.seqReadBegin() : 0
            enterLookup()
            found = lookup(page, retrying: retrying, &ctx)
            if let v = found {
                id = v.id
                ctx.delay(.afterLookup)
                if Self.typeSafeVMAs { ctx.awaitReuse(of: v, id: id) }
                outcome = Self.anonymousOnly && v.isFileBacked ? .failed(.abortNotAnonymous) : pin(v, id: id, page, &ctx)
            } else {
                outcome = .failed(.abortNotFound)
            }
            leaveLookup()
            if case let .retry(why) = outcome {
                ctx.note(why)
                ctx.delay(.beforeRetry)
                retrying = true
                continue
            }
            guard Self.lookupRetriesOnMMSeq && mm.seqReadRetry(s) else { break }
            // A violation seen inside the read side stands, retry or not.
            if case .violation = outcome { break }
            if case .pinned = outcome, let v = found { unpin(v, aborted: true) }
            if case .drop = outcome, let v = found, let r = release(v, &ctx) {
                leaveFault(section)
                return r
            }
            ctx.note(.retryTreeSeq)
        }
        let v: VMAPtr
        switch outcome {
        case .pinned:
            v = found.unsafelyUnwrapped
            // The reference holds this instance; the one the walk saw may have been freed and reused before it.
            if Self.typeSafeVMAs { id = v.id }
        case let .violation(r):
            leaveFault(section)
            return r
        case let .drop(why):
            let r = release(found.unsafelyUnwrapped, &ctx)
            leaveFault(section)
            return r ?? ctx.fallback(mm.handle, why, page, write: write)
        case let .failed(why), let .retry(why):
            leaveFault(section)
            return ctx.fallback(mm.handle, why, page, write: write)
        }
        ctx.delay(.afterPin)
        if let why = confirm(v, page, &ctx) {
            unpin(v, aborted: true)
            leaveFault(section)
            return ctx.fallback(mm.handle, why, page, write: write)
        }
        var result = ctx.checkLive(v, id: id) ?? validateAndCommit(v, id: id, page, write: write, &ctx)
        ctx.delay(.afterCommit)
        if let r = recheck(v, id: id, &ctx) { result = r }
        unpin(v, aborted: result == nil)
        leaveFault(section)
        if let result {
            if !result.isViolation { ctx.note(.speculativeSuccess) }
            return result
        }
        return ctx.fallback(mm.handle, nil, page, write: write)
    }
}

/// A busted twin of a lockless strategy: every step forwards to `base`
/// unless the twin overrides it, and faults run the shared path over the
/// twin's own steps.
public protocol BustedLocklessTwin: BustedTwin, LocklessSteps where Base: LocklessSteps, Section == Base.Section {}

extension BustedLocklessTwin {
    public static var lookupRetriesOnMMSeq: Bool { Base.lookupRetriesOnMMSeq }
    public static var anonymousOnly: Bool { Base.anonymousOnly }
    public static var typeSafeVMAs: Bool { Base.typeSafeVMAs }
    @inline(__always) public func enterFault(_ ctx: inout FaultContext) -> Section { base.enterFault(&ctx) }
    @inline(__always) public func enterLookup() { base.enterLookup() }
    @inline(__always) public func leaveLookup() { base.leaveLookup() }
    @inline(__always)
    public func lookup(_ page: UInt64, retrying: Bool, _ ctx: inout FaultContext) -> VMAPtr? {
        base.lookup(page, retrying: retrying, &ctx)
    }
    @inline(__always)
    public func pin(_ v: VMAPtr, id: UInt64, _ page: UInt64, _ ctx: inout FaultContext) -> PinOutcome {
        base.pin(v, id: id, page, &ctx)
    }
    @inline(__always)
    public func confirm(_ v: VMAPtr, _ page: UInt64, _ ctx: inout FaultContext) -> FaultEvent? { base.confirm(v, page, &ctx) }
    @inline(__always) public func release(_ v: VMAPtr, _ ctx: inout FaultContext) -> FaultResult? { base.release(v, &ctx) }
    @inline(__always)
    public func validateAndCommit(_ v: VMAPtr, id: UInt64, _ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult? {
        base.validateAndCommit(v, id: id, page, write: write, &ctx)
    }
    @inline(__always)
    public func recheck(_ v: VMAPtr, id: UInt64, _ ctx: inout FaultContext) -> FaultResult? { base.recheck(v, id: id, &ctx) }
    @inline(__always) public func unpin(_ v: VMAPtr, aborted: Bool) { base.unpin(v, aborted: aborted) }
    @inline(__always) public func leaveFault(_ s: Section) { base.leaveFault(s) }
    @inline(__always)
    public func fault(_ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult {
        locklessFault(page, write: write, &ctx)
    }
}
