/// What a page fault did.
public enum FaultResult: Equatable, Sendable {
    /// A new PTE was installed.
    case installed
    /// A read-only PTE became writable (a write fault on a read-faulted page).
    case upgraded
    /// The PTE was already there with enough permission.
    case present
    /// SIGSEGV: no VMA covers the address.
    case noVMA
    /// SIGSEGV: the VMA's protection forbids the access.
    case accessDenied
    /// The fault found a present PTE stamped by another VMA generation than the
    /// VMA covering it: a PTE that outlived its VMA (STALE-PTE).
    case stalePTE(PTE, vmaGen: UInt64)
    /// The fault found the VMA it used freed (poisoned) or reused by the time
    /// it re-checked, though its protocol should have kept it alive (UAF).
    case useAfterFree(vmaID: UInt64, tag: UInt64)
    /// Fields read under an even, unchanged seqcount failed their checksum (TORN).
    case torn(vmaID: UInt64)
    /// Grace periods had ended since the VMA was removed while the fault still used it (PIPE).
    case pipe(vmaID: UInt64, gracePeriods: UInt32)
    /// The fault was about to act on a VMA that is not its mm's VMA covering its address (REUSE).
    case reuse(vmaID: UInt64, why: ReuseKind)
    /// The fault touched an mm that had been destroyed (a writer wake-up on a freed mm: UAF).
    case mmFreed(identity: UInt64)

    /// What a REUSE finding saw.
    public enum ReuseKind: UInt8, Sendable {
        case foreignMM, outsideRange, detached

        public var text: String {
            switch self {
            case .foreignMM: return "it belongs to another mm"
            case .outsideRange: return "it does not cover the page"
            case .detached: return "it is detached"
            }
        }
    }

    /// The fault resolved (the access would now proceed).
    @inline(__always) public var succeeded: Bool {
        switch self {
        case .installed, .upgraded, .present: return true
        default: return false
        }
    }

    /// The case without its payload: what the workers count and the reports name.
    public enum Kind: Int, CaseIterable, Sendable {
        case installed, upgraded, present, noVMA, accessDenied, stalePTE, useAfterFree, torn, pipe, reuse

        public var name: String {
            switch self {
            case .installed: return "installed"
            case .upgraded: return "upgraded"
            case .present: return "present"
            case .noVMA: return "segv-no-vma"
            case .accessDenied: return "segv-access"
            case .stalePTE: return "stale-pte"
            case .useAfterFree: return "use-after-free"
            case .torn: return "torn"
            case .pipe: return "pipe"
            case .reuse: return "reuse"
            }
        }
    }

    @inline(__always) public var kind: Kind {
        switch self {
        case .installed: return .installed
        case .upgraded: return .upgraded
        case .present: return .present
        case .noVMA: return .noVMA
        case .accessDenied: return .accessDenied
        case .stalePTE: return .stalePTE
        case .useAfterFree: return .useAfterFree
        case .torn: return .torn
        case .pipe: return .pipe
        case .reuse: return .reuse
        case .mmFreed: return .useAfterFree
        }
    }
}

extension MM {
    /// The classic fault path, for a caller that holds `mmap_lock` for read
    /// (or is the only thread): find, check bounds and access, install the PTE
    /// under the PTL.
    @inline(__always)
    public func faultLocked(_ page: UInt64, write: Bool) -> FaultResult {
        guard let v = index.find(page) else { return .noVMA }
        guard v.prot.contains(.access(write: write)) else { return .accessDenied }
        return installPTE(page, gen: v.gen, write: write)
    }

    /// Installs (or upgrades) the PTE for `page` under its PTL. The caller has
    /// checked that a VMA of generation `gen` allows the access.
    @inline(__always)
    public func installPTE(_ page: UInt64, gen: UInt64, write: Bool) -> FaultResult {
        let t = pageTable.table(for: page)
        let slot = PageTable.split(page).slot
        t.faultWork(slot)
        t.lock()
        defer { t.unlock() }
        return installLocked(t, slot, gen: gen, write: write)
    }

    /// The PTE update itself; the caller holds the table's PTL.
    @inline(__always)
    public func installLocked(_ t: PageTable.Table, _ slot: Int, gen: UInt64, write: Bool) -> FaultResult {
        let old = t.pte(slot)
        if !old.isPresent {
            t.setPTE(slot, PTE(gen: gen, writable: write))
            return .installed
        }
        if old.gen != gen { return .stalePTE(old, vmaGen: gen) }
        if write && !old.isWritable {
            t.setPTE(slot, PTE(gen: gen, writable: true))
            return .upgraded
        }
        return .present
    }
}

extension MM {
    /// The fallback of every lockless strategy: the classic fault under mmap_lock.
    /// `blockBegin` and `blockEnd` bracket the wait for the lock (QSBR
    /// readers go offline there).
    @inline(never)
    public func faultUnderMMapLock(_ page: UInt64, write: Bool, blockBegin: (@convention(c) () -> Void)? = nil,
                                   blockEnd: (@convention(c) () -> Void)? = nil) -> FaultResult {
        if !mmapLock.tryReadLock() {
            blockBegin?()
            mmapLock.readLock()
            blockEnd?()
        }
        defer { mmapLock.readUnlock() }
        return faultLocked(page, write: write)
    }
}

extension FaultResult {
    /// A checker finding rather than a fault's answer.
    @inline(__always) public var isViolation: Bool {
        switch self {
        case .useAfterFree, .torn, .pipe, .stalePTE, .reuse, .mmFreed: return true
        default: return false
        }
    }
}
