/// The checker's scans of the mm. Each returns what it found wrong; none
/// changes anything. Callers exclude writers (workers parked, or mmap_lock
/// held for read).
public enum Audit {
    /// TREE: sorted, non-overlapping, inside the address space, every entry a
    /// live, attached record, none listed twice.
    public static func tree(_ mm: MM) -> [Finding] {
        var found: [Finding] = []
        var seen = Set<UInt>()
        var prevEnd: UInt64 = 0
        var prev: VMAPtr? = nil
        found += mm.list.audit().prefix(4).map { Finding(.tree, expected: "a well-formed VMA list", seen: $0) }
        for (i, v) in mm.list.all.enumerated() {
            guard mm.vmas.owns(v), v.isLive else {
                found.append(Finding(.tree, expected: "index entry \(i) is a live VMA record",
                                     seen: "a freed or foreign record (tag 0x\(String(v.pointee.tag.load(ordering: .relaxed), radix: 16)))"))
                continue
            }
            if !seen.insert(UInt(bitPattern: v)).inserted {
                found.append(Finding(.tree, vma: VMAIdentity(v), expected: "each VMA in the index once", seen: "listed twice"))
            }
            if v.start >= v.end || v.end > mm.space.end {
                found.append(Finding(.tree, vma: VMAIdentity(v), expected: "start < end <= \(mm.space.end)",
                                     seen: "start \(v.start), end \(v.end)"))
            }
            if !v.isAttached {
                found.append(Finding(.tree, vma: VMAIdentity(v), expected: "VMAs in the index are marked attached",
                                     seen: "marked detached"))
            }
            if let p = prev, v.start < prevEnd {
                found.append(Finding(.tree, vma: VMAIdentity(v), expected: "sorted and non-overlapping",
                                     seen: "overlaps or precedes \(VMAIdentity(p).text)"))
            }
            prevEnd = max(prevEnd, v.end)
            prev = v
        }
        return found
    }

    /// TREE for the lookup tree: its own shape (rbtree colours and links,
    /// B-tree keys and nodes), and the same VMAs in the same order as the list.
    public static func index(_ mm: MM, pendingNodes: Int = 0) -> [Finding] {
        let (order, problems) = mm.index.audit(pendingNodes: pendingNodes)
        let kind = mm.index.kind.rawValue
        var found = problems.prefix(4).map {
            Finding(.tree, expected: "a well-formed \(kind)", seen: $0)
        }
        let listed = mm.list.all
        if order.count != listed.count {
            found.append(Finding(.tree, expected: "the \(kind) holds the \(mm.list.count) VMAs of the list",
                                 seen: "it holds \(order.count)"))
        } else if let i = order.indices.first(where: { order[$0] != listed[$0] }) {
            found.append(Finding(.tree, vma: VMAIdentity(listed[i]),
                                 expected: "the \(kind) lists VMAs in the list's order",
                                 seen: "entry \(i) of the \(kind) is \(VMAIdentity(order[i]).text)"))
        }
        return found
    }

    /// STALE-PTE evidence the mutations left (`WriteEvidence.noteHolePTE`): PTEs in a
    /// hole being mapped, or of a foreign generation in a VMA being moved or
    /// merged away, found before the new mapping could hide them (each reported once).
    public static func holes(_ mm: MM) -> [Finding] {
        let (n, page) = mm.evidence.takeHolePTEs()
        guard n > 0 else { return [] }
        return [Finding(.stalePTE, page: page,
                        expected: "a hole has no PTE when a mutation maps it (mmap, mremap's destination), and a VMA moved or merged away has only PTEs of its own generation",
                        seen: "\(n) PTE(s) found there, last in the range at page \(page)")]
    }

    /// STALE-PTE evidence from take-all-locks: a PTE changed while every lock was held.
    public static func allLocks(_ mm: MM) -> [Finding] {
        let (n, page) = mm.evidence.takeChangedUnderAllLocks()
        guard n > 0 else { return [] }
        return [Finding(.stalePTE, page: page,
                        expected: "no PTE changes while take-all-locks holds every lock (every fault in flight is excluded)",
                        seen: "\(n) change(s), last at page \(page)")]
    }

    /// TREE around `range`: the VMAs touching it and their neighbours are in order.
    public static func tree(_ mm: MM, around range: PageRange) -> [Finding] {
        var found: [Finding] = []
        var prev: VMAPtr? = nil
        mm.list.forEach(from: range.start, withPrevious: true) { b in
            defer { prev = b }
            guard let a = prev else { return true }
            if a.start >= range.end { return false }
            if a.end > b.start || a.start >= a.end {
                found.append(Finding(.tree, vma: VMAIdentity(b), expected: "sorted and non-overlapping",
                                     seen: "overlaps or precedes \(VMAIdentity(a).text)"))
            }
            return true
        }
        return found
    }

    /// REF: every attached VMA holds exactly the tree's reference, and no
    /// put has underflowed since `underflowsBefore`.
    public static func refs(_ mm: MM, underflowsBefore: UInt64) -> [Finding] {
        var found: [Finding] = []
        mm.list.forEach { v in
            let n = v.pointee.refs.value
            if n != 1 {
                found.append(Finding(.ref, vma: VMAIdentity(v), expected: "1 reference (the tree's) at quiescence",
                                     seen: "\(n) references"))
            }
        }
        let (underflows, lastID) = mm.evidence.refUnderflows
        if underflows > underflowsBefore {
            found.append(Finding(.ref, expected: "no reference count underflow",
                                 seen: "\(underflows - underflowsBefore) underflow(s), last on VMA id \(lastID)"))
        }
        return found
    }

    /// LEAK: records allocated minus records freed equals the VMAs in the
    /// index plus those legitimately waiting for a deferred free.
    public static func leak(_ mm: MM, pending: UInt64 = 0) -> [Finding] { leak([mm], pending: pending) }

    /// LEAK over mms sharing one VMA cache: the VMAs in all their indexes.
    public static func leak(_ mms: [MM], pending: UInt64 = 0) -> [Finding] {
        guard let vmas = mms.first?.vmas else { return [] }
        let allocs = vmas.allocations, frees = vmas.frees
        let listed = mms.reduce(0) { $0 + $1.list.count }
        let live = UInt64(listed) + pending
        guard allocs - frees != live else { return [] }
        let whose = mms.count > 1 ? " of \(mms.count) mms" : ""
        return [Finding(.leak, expected: "allocations - frees = \(live) (\(listed) in the index\(whose), \(pending) pending free)",
                        seen: "\(allocs) - \(frees) = \(allocs - frees)")]
    }

    /// LEAK of mms: at quiescence nothing holds an mm but the mm itself (mmgrab
    /// and mmdrop come in pairs), so every live mm has mm_count 1 and none that
    /// exited is still alive.
    public static func mmLeak(_ cache: MMCache) -> [Finding] {
        cache.live().filter { $0.exited || $0.count != 1 }.prefix(4).map { m in
            Finding(.leak, expected: m.exited ? "an exited mm is destroyed once nothing holds it (mmgrab and mmdrop in pairs)"
                                              : "mm_count 1 (the mm's own) at quiescence",
                    seen: "mm \(MMCache.describe(m.identity))\(m.exited ? " exited but" : "") has mm_count \(m.count)")
        }
    }

    /// STALE-PTE: every present PTE in `range` (all of the space by default)
    /// lies in a VMA of its generation that allows its permission.
    public static func ptes(_ mm: MM, in range: PageRange? = nil) -> [Finding] {
        var found: [Finding] = []
        mm.pageTable.forEachPresent(in: range) { page, pte in
            guard found.count < 16 else { return }
            guard let v = mm.list.find(page) else {
                found.append(Finding(.stalePTE, page: page, expected: "no PTE where no VMA is mapped", seen: "PTE \(pte)"))
                return
            }
            if v.gen != pte.gen {
                found.append(Finding(.stalePTE, vma: VMAIdentity(v), page: page,
                                     expected: "PTE of generation \(v.gen)", seen: "PTE \(pte)"))
            } else if !v.prot.contains(.read) {
                found.append(Finding(.stalePTE, vma: VMAIdentity(v), page: page,
                                     expected: "no PTE under PROT_NONE", seen: "PTE \(pte)"))
            } else if pte.isWritable && !v.prot.contains(.write) {
                found.append(Finding(.stalePTE, vma: VMAIdentity(v), page: page,
                                     expected: "read-only PTE under a read-only VMA", seen: "PTE \(pte)"))
            }
        }
        return found
    }
}
