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
        for i in 0..<mm.index.count {
            let v = mm.index[i]
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

    /// TREE around `range`: the VMAs touching it and their neighbours are in order.
    public static func tree(_ mm: MM, around range: PageRange) -> [Finding] {
        var found: [Finding] = []
        var i = max(mm.index.firstEnding(after: range.start) - 1, 0)
        while i + 1 < mm.index.count {
            let a = mm.index[i], b = mm.index[i + 1]
            if a.start >= range.end { break }
            if a.end > b.start || a.start >= a.end {
                found.append(Finding(.tree, vma: VMAIdentity(b), expected: "sorted and non-overlapping",
                                     seen: "overlaps or precedes \(VMAIdentity(a).text)"))
            }
            i += 1
        }
        return found
    }

    /// REF: every attached VMA holds exactly the tree's reference, and no
    /// put has underflowed since `underflowsBefore`.
    public static func refs(_ mm: MM, underflowsBefore: UInt64) -> [Finding] {
        var found: [Finding] = []
        for i in 0..<mm.index.count {
            let v = mm.index[i]
            let n = v.pointee.refs.value
            if n != 1 {
                found.append(Finding(.ref, vma: VMAIdentity(v), expected: "1 reference (the tree's) at quiescence",
                                     seen: "\(n) references"))
            }
        }
        let (underflows, lastID) = mm.refUnderflows
        if underflows > underflowsBefore {
            found.append(Finding(.ref, expected: "no reference count underflow",
                                 seen: "\(underflows - underflowsBefore) underflow(s), last on VMA id \(lastID)"))
        }
        return found
    }

    /// LEAK: records allocated minus records freed equals the VMAs in the
    /// index plus those legitimately waiting for a deferred free.
    public static func leak(_ mm: MM, pending: UInt64 = 0) -> [Finding] {
        let allocs = mm.vmas.allocations, frees = mm.vmas.frees
        let live = UInt64(mm.index.count) + pending
        guard allocs - frees != live else { return [] }
        return [Finding(.leak, expected: "allocations - frees = \(live) (\(mm.index.count) in the index, \(pending) pending free)",
                        seen: "\(allocs) - \(frees) = \(allocs - frees)")]
    }

    /// STALE-PTE: every present PTE in `range` (all of the space by default)
    /// lies in a VMA of its generation that allows its permission.
    public static func ptes(_ mm: MM, in range: PageRange? = nil) -> [Finding] {
        var found: [Finding] = []
        mm.pageTable.forEachPresent(in: range) { page, pte in
            guard found.count < 16 else { return }
            guard let v = mm.index.find(page) else {
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
