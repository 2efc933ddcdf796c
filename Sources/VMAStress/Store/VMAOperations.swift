/// What a mutation did, for metrics and the checker's post-operation audit.
public struct MutationResult: Sendable {
    public enum Status: Sendable, Equatable {
        case done
        /// mmap or mremap found no free range big enough.
        case noSpace
        /// mprotect, munmap or mremap found nothing to act on.
        case noTarget
        /// The VMA slab is full (ENOMEM).
        case noMemory
    }

    public var status: Status
    /// Where PTEs may have changed: the checker audits these after the call returns.
    public var touched: [PageRange] = []

    public static func failed(_ s: Status) -> MutationResult { MutationResult(status: s) }
}

/// What an mmap maps. The model has no page cache: a file mapping's VMA is
/// marked file-backed (`VMA.fileBacked`: the strategies whose lockless path
/// took anonymous VMAs only fall back on it), its faults take the same
/// page-table steps as anonymous memory, and only the kernel backend maps
/// the file itself (from offset 0).
public struct MappedFile: Sendable, Equatable {
    public var isFile: Bool
    /// The open file the kernel backend maps; -1 for anonymous memory and in the model.
    public var fd: Int32
    /// MAP_SHARED instead of MAP_PRIVATE.
    public var shared: Bool
    public init(isFile: Bool, fd: Int32 = -1, shared: Bool = false) { self.isFile = isFile; self.fd = fd; self.shared = shared }
    public static let anonymous = MappedFile(isFile: false)
}

/// One mutation as a worker asks for it: what `Strategy.perform` carries out
/// and MAPPING's model steps through.
public enum MutationCall: Sendable {
    /// mmap(MAP_FIXED_NOREPLACE); flags 1 keeps the VMA from merging.
    case mmapFixed(PageRange, Prot, flags: UInt32)
    case mmap(count: UInt64, prot: Prot, within: PageRange, hint: UInt64, file: MappedFile = .anonymous)
    case munmap(PageRange)
    case mprotect(PageRange, Prot)
    case mremap(vmaAt: UInt64, within: PageRange, hint: UInt64)
    case takeAllLocks
}

extension WriteSide {
    /// The model's own answer to `call`: the shared mutations below.
    public func performOnModel(_ call: MutationCall) -> MutationResult {
        switch call {
        case let .mmapFixed(r, prot, flags): return mmapFixed(r, prot: prot, flags: flags)
        case let .mmap(count, prot, within, hint, file):
            return mmap(count: count, prot: prot, flags: file.isFile ? VMA.fileBacked : 0, within: within, hint: hint)
        case let .munmap(r): return munmap(r)
        case let .mprotect(r, prot): return mprotect(r, prot: prot)
        case let .mremap(page, within, hint): return mremap(vmaAt: page, within: within, hint: hint)
        case .takeAllLocks: return takeAllLocks()
        }
    }
}

/// The mutations every strategy shares: mmap (with merging), munmap (split,
/// detach, zap, retire), mprotect (split, change, downgrade PTEs, merge) and
/// mremap (move). They follow the kernel's order of steps and call the
/// strategy's `WriteSide` hooks at the points its protocol cares about.
extension WriteSide {
    /// mmap(MAP_FIXED_NOREPLACE): maps exactly `range`; fails if anything is there.
    public func mmapFixed(_ range: PageRange, prot: Prot, flags: UInt32 = 0) -> MutationResult {
        lockMM(.map)
        defer { unlockMM(.map) }
        if let v = mm.list.first(endingAfter: range.start), v.start < range.end { return .failed(.noSpace) }
        return mapLocked(range, prot: prot, flags: flags)
    }

    /// mmap(NULL, count pages): maps the first free range found from `hint` inside `within`.
    public func mmap(count: UInt64, prot: Prot, flags: UInt32 = 0, within: PageRange, hint: UInt64) -> MutationResult {
        lockMM(.map)
        defer { unlockMM(.map) }
        guard let gap = findGap(count: count, within: within, hint: hint) else { return .failed(.noSpace) }
        mm.probes.announce(gap)
        return mapLocked(gap, prot: prot, flags: flags)
    }

    /// Maps a free `gap`, merging with neighbours of the same prot and flags (vma_merge).
    /// A PTE in the gap outlived the VMA that was there: noted before the new
    /// mapping can cover it with a matching generation.
    func mapLocked(_ gap: PageRange, prot: Prot, flags: UInt32) -> MutationResult {
        if mm.evidence.auditsHoles { mm.pageTable.update(gap) { pte in mm.evidence.noteHolePTE(gap.start); return pte } }
        func compatible(_ v: VMAPtr) -> Bool { v.prot == prot && v.flags == flags }
        var prev: VMAPtr? = nil
        if gap.start > 0, let p = mm.list.find(gap.start - 1), p.end == gap.start, compatible(p) {
            prev = p
        }
        var next: VMAPtr? = nil
        if let n = mm.list.find(gap.end), n.start == gap.end, compatible(n) { next = n }

        switch (prev, next) {
        case let (p?, n?):
            // p grows over the gap and absorbs n.
            merge(p, n)
        case let (p?, nil):
            modify(p) {
                p.setEnd(gap.end)
                mm.list.refresh(p)
            }
        case let (nil, n?):
            let old = n.start
            modify(n) {
                treeWriteBegin()
                n.setStart(gap.start)
                mm.list.refresh(n, oldStart: old)
                mm.index.rekey(n, from: old)
                treeWriteEnd()
            }
        case (nil, nil):
            guard let v = mm.allocateVMA(gap, prot: prot, flags: flags, gen: mm.newGen()) else {
                return .failed(.noMemory)
            }
            link(v)
        }
        return MutationResult(status: .done, touched: [gap])
    }

    /// munmap: splits the VMAs straddling the ends, then detaches, zaps and
    /// retires every VMA inside (do_vmi_align_munmap's order).
    public func munmap(_ range: PageRange) -> MutationResult {
        mm.probes.announce(range)
        lockMM(.unmap)
        defer { unlockMM(.unmap) }
        guard mm.vmas.available >= 2 else { return .failed(.noMemory) }
        guard let first = mm.list.first(endingAfter: range.start), first.start < range.end else { return .failed(.noTarget) }
        splitStraddlers(range)
        while let v = mm.list.first(endingAfter: range.start), v.start < range.end {
            remove(v)
        }
        return MutationResult(status: .done, touched: [range])
    }

    /// mprotect: splits at the ends, changes prot and downgrades or zaps PTEs,
    /// then merges neighbours that now match.
    public func mprotect(_ range: PageRange, prot: Prot) -> MutationResult {
        mm.probes.announce(range)
        lockMM(.protect)
        defer { unlockMM(.protect) }
        guard mm.vmas.available >= 2 else { return .failed(.noMemory) }
        guard let first = mm.list.first(endingAfter: range.start), first.start < range.end else { return .failed(.noTarget) }
        splitStraddlers(range, unless: prot)
        // Fields and PTEs change here, not the list.
        mm.list.forEach(from: range.start) { v in
            guard v.start < range.end else { return false }
            if v.prot != prot {
                modify(v) {
                    v.setProt(prot)
                    if !prot.contains(.read) {
                        _ = zapPTEs(v.range, of: v)
                    } else if !prot.contains(.write) {
                        mm.pageTable.update(v.range) { $0.readOnly() }
                    }
                }
            }
            return true
        }
        mergeAround(range)
        return MutationResult(status: .done, touched: [range])
    }

    /// mremap(MREMAP_MAYMOVE) of the whole VMA covering `page` to a free range
    /// inside `within`: link the copy, move the PTEs, unlink and retire the old one.
    public func mremap(vmaAt page: UInt64, within: PageRange, hint: UInt64) -> MutationResult {
        lockMM(.remap)
        defer { unlockMM(.remap) }
        guard let v = mm.list.find(page), within.contains(v.start), v.end <= within.end else {
            return .failed(.noTarget)
        }
        let old = v.range
        guard let gap = findGap(count: old.count, within: within, hint: hint) else { return .failed(.noSpace) }
        mm.probes.announce(gap)
        guard let n = mm.allocateVMA(gap, prot: v.prot, flags: v.flags, gen: mm.newGen()) else {
            return .failed(.noMemory)
        }
        // copy_vma: the new VMA is write-locked before it is reachable, so no
        // fault populates the destination before its page tables arrive.
        vmaWriteBegin(n)
        link(n)
        mm.probes.delay(.linkedBeforeMove)
        vmaWriteBegin(v)
        for page in mm.pageTable.move(from: old, to: gap.start, gen: n.gen, expecting: v.gen) { mm.evidence.noteHolePTE(page) }
        unlink(v)
        vmaWriteEnd(v)
        vmaWriteEnd(n)
        mm.probes.delay(.beforeRetire)
        vmaRetire(v)
        return MutationResult(status: .done, touched: [old, gap])
    }

    /// mm_take_all_locks (seed 003, as mmu_notifier_register uses it):
    /// exclude every fault in flight, whatever path it takes. The mm write
    /// lock, then the write section of every VMA (the SPF seqcounts turn odd;
    /// per-VMA locks: vma_start_write, as Linux 6.4's mm_take_all_locks
    /// does), then every PTL once, so a speculative fault that passed its
    /// commit check before has finished. While all is held no PTE may
    /// change: the operation checks that over a short hold.
    public func takeAllLocks() -> MutationResult {
        lockMM()
        defer { unlockMM() }
        mm.list.forEach { vmaWriteBegin($0) }
        mm.pageTable.forEachTable { $0.lock(); $0.unlock() }
        let before = mm.pageTable.snapshot()
        let until = Clock.nanos() + 5_000
        while Clock.nanos() < until { spinHint() }
        if let page = mm.pageTable.firstDifference(from: before) { mm.evidence.noteChangedUnderAllLocks(page) }
        mm.list.forEach { vmaWriteEnd($0) }
        return MutationResult(status: .done, touched: [])
    }

    // MARK: Steps

    /// The strategy's mm write lock, with the step published for the stall dump. A system
    /// call's `--mutation-work`: its entry before the lock, its kind's work before unlock.
    func lockMM(_ call: MutationWork.Kind? = nil) {
        if call != nil { MutationWork.spin(.syscall) }
        mm.probes.setStep(.waitingForMMapLock)
        mmWriteLock()
        mm.probes.setStep(.holdingMMapLock)
    }

    func unlockMM(_ call: MutationWork.Kind? = nil) {
        if let call { MutationWork.spin(call) }
        mm.probes.setStep(.idle)
        mmWriteUnlock()
    }

    /// Runs `body` inside `v`'s write section and reseals its checksum.
    @inline(__always)
    func modify(_ v: VMAPtr, _ body: () -> Void) {
        vmaWriteBegin(v)
        body()
        mm.probes.delay(.fieldsChanged)
        v.resealChecksum()
        vmaWriteEnd(v)
    }

    /// Makes a new VMA reachable: prepare (write-lock) it, then insert.
    func link(_ v: VMAPtr) {
        vmaPrepare(v)
        vmaAttach(v)
        treeWriteBegin()
        mm.list.insert(v)
        mm.index.insert(v)
        v.setAttached(true)
        mm.probes.delay(.treeStored)
        treeWriteEnd()
    }

    /// Removes `v` from the index and marks it detached; the caller is inside `v`'s write section.
    func unlink(_ v: VMAPtr) {
        treeWriteBegin()
        if mm.list.erase(v) { mm.index.erase(v) }
        v.setAttached(false)
        mm.probes.delay(.treeStored)
        treeWriteEnd()
    }

    /// Detach, zap, retire: the whole of `v` goes away.
    func remove(_ v: VMAPtr) {
        vmaWriteBegin(v)
        unlink(v)
        mm.probes.delay(.unlinkedBeforeZap)
        _ = zapPTEs(v.range, of: v)
        vmaWriteEnd(v)
        mm.probes.delay(.beforeRetire)
        vmaRetire(v)
    }

    /// __split_vma: `v` keeps `[v.start, page)`, a new VMA of the same
    /// generation takes `[page, v.end)`.
    func split(_ v: VMAPtr, at page: UInt64) {
        guard let right = mm.allocateVMA(PageRange(page, v.end), prot: v.prot, flags: v.flags, gen: v.gen) else {
            fatalError("VMA slab exhausted inside a split; callers reserve two records first")
        }
        modify(v) {
            v.setEnd(page)
            mm.list.refresh(v)
        }
        link(right)
    }

    /// Splits the VMAs that straddle either end of `range` (skipping those
    /// whose prot already equals `unless`, which mprotect leaves whole).
    func splitStraddlers(_ range: PageRange, unless prot: Prot? = nil) {
        if let v = mm.list.find(range.start), v.start < range.start, v.prot != prot {
            split(v, at: range.start)
        }
        if let v = mm.list.find(range.end), v.start < range.end, v.prot != prot {
            split(v, at: range.end)
        }
    }

    /// vma_merge: `left` grows to `right.end`, absorbing `right` (same prot
    /// and flags; anything between them is unmapped); `right`'s PTEs are
    /// re-stamped with `left`'s generation.
    func merge(_ left: VMAPtr, _ right: VMAPtr) {
        vmaWriteBegin(left)
        vmaWriteBegin(right)
        let gen = left.gen, absorbed = right.gen, start = right.start
        if absorbed != gen {
            mm.pageTable.update(right.range) { pte in
                if pte.gen != absorbed { mm.evidence.noteHolePTE(start) }
                return pte.restamped(gen: gen)
            }
        }
        left.setEnd(right.end)
        mm.list.refresh(left)
        left.resealChecksum()
        unlink(right)
        vmaWriteEnd(right)
        vmaWriteEnd(left)
        mm.probes.delay(.beforeRetire)
        vmaRetire(right)
    }

    /// Merges every compatible adjacent pair from the VMA before `range` to the one after it.
    func mergeAround(_ range: PageRange) {
        var a = mm.list.first(endingAfter: range.start > 0 ? range.start - 1 : 0)
        while let x = a, x.start <= range.end, let b = mm.list.next(after: x) {
            if x.end == b.start && x.prot == b.prot && x.flags == b.flags {
                merge(x, b)
            } else {
                a = b
            }
        }
    }
}
