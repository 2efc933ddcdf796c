"""The mutants `make mutants` applies, one at a time: small bugs of the kinds
the seeds discuss, written into the shipped strategies, primitives, indexes
and store operations. Each names the strategy that exercises it and the
invariant it should break. `equivalent` marks a mutant that cannot change
behaviour on this machine (x86-64, or a check another step repeats), with
the reason; those are left out of the detection rate.

`edits` are (file, old, new): `old` must occur exactly once in the file.
`validate` names the `vmastress validate` stress of the primitive a mutant
changes: when the strategy's runs miss it, that stress runs too (the
project checks primitives there, with a busted twin of each). `args` are the
`vmastress run` arguments the bug's race needs (a second writer, say).

The mutants after "issue 33" are the shapes the detection once depended on a
busy machine for, or did not see at all: a write-side step moved just past
the unlock that should cover it (a window of a few instructions, with no
delay point inside), a node or record freed at once on a less common path,
an mm hold never dropped, a report lost on its way to the verdict, and a
check that never runs while the run still lists its invariant as checked."""

S = "Sources/VMAStress/"
SPEC = S + "Strategies/Speculative/SpeculativeFault.swift"
PVL = S + "Strategies/PerVMALock.swift"
PVR = S + "Strategies/PerVMARefcount.swift"
OPS = S + "Store/VMAOperations.swift"

MUTANTS = [
    # --- the speculative fault (SPF family) ---
    dict(id="spf-odd-seq-accepted", strategy="spf-srcu", expect="TORN",
         edits=[(SPEC, "if s & 1 != 0 {", "if false && s & 1 != 0 {")]),
    dict(id="spf-no-field-recheck", strategy="spf-rcu", expect="TORN",
         edits=[(SPEC, "let sum = v.pointee.checksum.load(ordering: .relaxed)\n        if v.pointee.seq.readRetry(s) {",
                 "let sum = v.pointee.checksum.load(ordering: .relaxed)\n        if false {")]),
    dict(id="spf-commit-checks-attached-only", strategy="spf-srcu", expect="STALE-PTE",
         edits=[(SPEC, "if v.pointee.seq.readRetry(snap.seq) || !v.isAttached {",
                 "if !v.isAttached {")]),
    dict(id="spf-commit-checks-seq-only", strategy="spf-rcu", expect="STALE-PTE", equivalent=
         "unlink happens inside the VMA's write section, so the seqcount re-check already sees a detach",
         edits=[(SPEC, "if v.pointee.seq.readRetry(snap.seq) || !v.isAttached {",
                 "if v.pointee.seq.readRetry(snap.seq) {")]),
    dict(id="spf-no-detached-check", strategy="spf-rwlock", expect="STALE-PTE", equivalent=
         "a detached VMA's seqcount moved when it was unlinked; the field re-check and the commit re-check both catch it",
         edits=[(SPEC, "if !v.isAttached {\n            ctx.note(.abortDetached)", "if false {\n            ctx.note(.abortDetached)")]),
    dict(id="spf-trylock-loop-no-recheck", strategy="spf-rwlock", expect="STALE-PTE", equivalent=
         "the loop's re-check only shortens the wait; the commit re-check under the PTL follows",
         edits=[(SPEC, "ctx.note(.retryPTLTrylock)\n                if v.pointee.seq.readRetry(snap.seq) {",
                 "ctx.note(.retryPTLTrylock)\n                if false {")]),
    dict(id="spf-no-bounds-check", strategy="spf-srcu", expect="STALE-PTE",
         edits=[(SPEC, "guard start <= page && page < end else {", "guard start <= page else {")]),
    dict(id="spf-no-access-check", strategy="spf-rcu", expect="STALE-PTE",
         edits=[(SPEC, "guard prot.contains(.access(write: write)) else {\n            ctx.note(.abortAccess)",
                 "guard true else {\n            ctx.note(.abortAccess)")]),
    # --- spf-rwlock (SPF v9) ---
    dict(id="rwlock-no-vma-get", strategy="spf-rwlock", expect="UAF",
         edits=[(S + "Strategies/Speculative/SPFRWLock.swift", "        v.pointee.refs.get()\n        return .pinned", "        return .pinned")]),
    dict(id="rwlock-tree-writes-unlocked", strategy="spf-rwlock", expect="UAF",
         edits=[(S + "Strategies/Speculative/SPFRWLock.swift", "public func treeWriteBegin() { mm.treeWriteLock() }", "public func treeWriteBegin() {}"),
                (S + "Strategies/Speculative/SPFRWLock.swift", "public func treeWriteEnd() { mm.treeWriteUnlock() }", "public func treeWriteEnd() {}")]),
    # --- spf-rcu (SPF v12) ---
    dict(id="rcu-get-on-zero", strategy="spf-rcu", expect="UAF", equivalent=
         "the tree's reference is dropped only after a grace period (call_rcu), so a reader inside its RCU section never meets a count of zero",
         edits=[(S + "Strategies/Speculative/SPFRCU.swift", "return v.pointee.refs.getUnlessZero() ? .pinned : .failed(.abortRefZero)",
                 "v.pointee.refs.get(); return .pinned")]),
    dict(id="rcu-retire-without-grace-period", strategy="spf-rcu", expect="UAF",
         edits=[(S + "Strategies/Speculative/SPFRCU.swift",
                 "deferred.retire(VMAAllocator.header(of: v), bytes: mm.vmas.bytesPerRecord)", "mm.put(v)")]),
    dict(id="rcu-lookup-without-mm-seq-retry", strategy="spf-rcu", expect="STALE-PTE", equivalent=
         "a lookup that raced a rotation finds the wrong VMA or none; the VMA's own bounds and seqcount checks reject it",
         edits=[(S + "Strategies/Speculative/SPFRCU.swift", "public static var lookupRetriesOnMMSeq: Bool { true }", "public static var lookupRetriesOnMMSeq: Bool { false }")]),
    # --- per-vma-lock (Linux 6.4) ---
    dict(id="pvl-no-second-lock-seq-compare", strategy="per-vma-lock", expect="STALE-PTE",
         edits=[(PVL, "        if v.pointee.lockSeq.load(ordering: .relaxed) == mm.lockSeq {\n            v.pointee.lock.readUnlock()",
                 "        if false {\n            v.pointee.lock.readUnlock()")]),
    dict(id="pvl-no-first-lock-seq-compare", strategy="per-vma-lock", expect="STALE-PTE", equivalent=
         "the early compare only saves a trylock; the compare after the trylock decides",
         edits=[(PVL, "if v.pointee.lockSeq.load(ordering: .relaxed) == mm.lockSeq { return .abortLockSeq }", "")]),
    dict(id="pvl-start-write-never-locks", strategy="per-vma-lock", expect="STALE-PTE",
         edits=[(PVL, "if v.pointee.lockSeq.load(ordering: .relaxed) == seq { return }", "if true { return }")]),
    dict(id="pvl-no-bounds-check", strategy="per-vma-lock", expect="STALE-PTE",
         edits=[(PVL, "guard v.start <= page && page < v.end else {", "guard true else {")]),
    dict(id="pvl-no-attached-check", strategy="per-vma-lock", expect="STALE-PTE",
         edits=[(PVL, "guard v.isAttached else {", "guard true else {")]),
    dict(id="pvl-free-without-grace-period", strategy="per-vma-lock", expect="UAF",
         edits=[(PVL, "public func vmaRetire(_ v: VMAPtr) { deferred.retireVMA(v, mm) }", "public func vmaRetire(_ v: VMAPtr) { mm.put(v) }")]),
    dict(id="pvl-unlock-without-lock-seq-bump", strategy="per-vma-lock", expect="STALL", equivalent=
         "every VMA stays write-locked, so every fault falls back to mmap_lock: slower, never wrong",
         edits=[(PVL, "        mm.bumpLockSeq()\n", "")]),
    # --- primitives ---
    dict(id="srcu-flip-without-first-wait", strategy="spf-srcu", expect="UAF",
         edits=[(S + "Sync/SRCU.swift", "        waitForReaders(index: Int((c &- 1) & 1))\n", "")]),
    dict(id="srcu-flip-without-drain", strategy="spf-srcu", expect="UAF",
         edits=[(S + "Sync/SRCU.swift", "        waitForReaders(index: Int(c & 1))\n", "")]),
    dict(id="srcu-read-lock-without-barrier", strategy="spf-srcu", expect="UAF", validate="srcu",
         edits=[(S + "Sync/SRCU.swift", "        atomicMemoryFence(ordering: .sequentiallyConsistent)  // B\n", "")]),
    dict(id="refcount-get-unless-zero-ignores-zero", strategy="spf-rcu", expect="UAF", equivalent=
         "as rcu-get-on-zero: spf-rcu's readers never meet a count of zero, the only user of get_unless_zero",
         edits=[(S + "Sync/RefCount.swift", "        return false\n    }\n\n    /// Drops a reference.", "        count.wrappingAdd(1, ordering: .relaxed)\n        return true\n    }\n\n    /// Drops a reference.")]),
    dict(id="qrwlock-reader-ignores-writer", strategy="spf-rwlock", expect="UAF", validate="qrwlock",
         edits=[(S + "Sync/QRWLock.swift", "if c & Self.writerMask != 0 { readLockSlow() }", "_ = c")]),
    dict(id="seqcount-write-end-no-bump", strategy="spf-srcu", expect="TORN",
         edits=[(S + "Sync/SeqCount.swift", "        atomicMemoryFence(ordering: .releasing)\n        seq.wrappingAdd(1, ordering: .relaxed)\n    }\n\n    /// read_seqcount_begin",
                 "        atomicMemoryFence(ordering: .releasing)\n        seq.wrappingSubtract(1, ordering: .relaxed)\n    }\n\n    /// read_seqcount_begin")]),
    # --- indexes and page tables ---
    dict(id="btree-replaced-nodes-not-marked-dead", strategy="per-vma-lock", expect="UAF", equivalent=
         "a replaced node keeps consistent (older) entries until its grace period ends; walking it is a legal RCU read",
         edits=[(S + "Store/BTree.swift", "            n.w[1].store(BTree.deadMark, ordering: .releasing)\n", "")]),
    dict(id="move-skips-unlocked-empty-pte", strategy="spf-rwlock", expect="STALE-PTE",
         edits=[(S + "Store/PageTable.swift", "            let srcSlot = Self.split(src).slot\n            st.lock()",
                 "            let srcSlot = Self.split(src).slot\n            guard st.pte(srcSlot).isPresent else { continue }\n            st.lock()")]),
    # --- store operations ---
    dict(id="mprotect-read-only-keeps-writable-ptes", strategy="mmap-lock", expect="STALE-PTE",
         edits=[(OPS, "mm.pageTable.update(v.range) { $0.readOnly() }", "_ = v")]),
    dict(id="merge-without-restamp", strategy="mmap-lock", expect="STALE-PTE",
         edits=[(OPS, "return pte.restamped(gen: gen)", "return pte")]),
    dict(id="split-off-by-one", strategy="mmap-lock", expect="TREE",
         edits=[(OPS, "            v.setEnd(page)\n            mm.list.refresh(v)", "            v.setEnd(page + 1)\n            mm.list.refresh(v)")]),
    dict(id="link-without-prepare", strategy="per-vma-lock", expect="STALE-PTE", equivalent=
         "every VMA the model links unlocked is new or a split piece whose contents are final, and every later change write-locks it first; mremap write-locks its new VMA itself before linking",
         edits=[(OPS, "        vmaPrepare(v)\n        vmaAttach(v)\n        treeWriteBegin()", "        vmaAttach(v)\n        treeWriteBegin()")]),
    dict(id="munmap-spares-last-page", strategy="mmap-lock", expect="MAPPING",
         edits=[(OPS, "        while let v = mm.list.first(endingAfter: range.start), v.start < range.end {\n            remove(",
                 "        while let v = mm.list.first(endingAfter: range.start), v.start < range.end - 1 {\n            remove(")]),
    dict(id="gap-search-skips-hint", strategy="mmap-lock", expect="MAPPING",
         edits=[(S + "Store/WriteSide.swift", "let from = min(max(hint, within.start), within.end - count)",
                 "let from = min(max(hint + 1, within.start), within.end - count)")]),
    dict(id="mmap-lock-fault-unlocked", strategy="mmap-lock", expect="STALE-PTE",
         edits=[(S + "Strategies/MMapLock.swift", "        mm.mmapLock.readLock()\n        defer { mm.mmapLock.readUnlock() }\n", "")]),
    # --- issue 33: a write-side step moved past its unlock ---
    dict(id="pvl-lock-seq-after-vma-unlock", strategy="per-vma-lock", expect="STALE-PTE",
         edits=[(PVL, "        v.pointee.lockSeq.store(seq, ordering: .relaxed)\n        mm.probes.delay(.lockSeqSet)\n        v.pointee.lock.writeUnlock()\n",
                 "        mm.probes.delay(.lockSeqSet)\n        v.pointee.lock.writeUnlock()\n        v.pointee.lockSeq.store(seq, ordering: .relaxed)\n")]),
    dict(id="pvr-lock-seq-after-writer-bit-dropped", strategy="per-vma-refcount", expect="STALE-PTE",
         edits=[(PVR, "        v.pointee.lockSeq.store(seq, ordering: .relaxed)\n        mm.probes.delay(.lockSeqSet)\n        if excluding { _ = v.pointee.refs.subtract(Self.writerBit) }\n",
                 "        mm.probes.delay(.lockSeqSet)\n        if excluding { _ = v.pointee.refs.subtract(Self.writerBit) }\n        v.pointee.lockSeq.store(seq, ordering: .relaxed)\n")]),
    dict(id="pvl-mm-lock-seq-bump-after-unlock", strategy="per-vma-lock", expect="STALE-PTE", args="--mutators 2",
         edits=[(PVL, "        mm.bumpLockSeq()\n        mm.probes.delay(.afterLockSeqBump)\n        mm.mmapWriteUnlock()\n",
                 "        mm.probes.delay(.afterLockSeqBump)\n        mm.mmapWriteUnlock()\n        mm.bumpLockSeq()\n")]),
    dict(id="pvr-mm-lock-seq-bump-after-unlock", strategy="per-vma-refcount", expect="STALE-PTE", args="--mutators 2",
         edits=[(PVR, "        mm.bumpLockSeq()\n        mm.probes.delay(.afterLockSeqBump)\n        mm.mmapWriteUnlock()\n",
                 "        mm.probes.delay(.afterLockSeqBump)\n        mm.mmapWriteUnlock()\n        mm.bumpLockSeq()\n")]),
    dict(id="reseal-after-write-end", strategy="spf-srcu", expect="TORN",
         edits=[(OPS, "        v.resealChecksum()\n        vmaWriteEnd(v)\n", "        vmaWriteEnd(v)\n        v.resealChecksum()\n")]),
    # --- issue 33: freed at once on a less common path ---
    dict(id="btree-merge-frees-neighbour-at-once", strategy="per-vma-lock", expect="UAF",
         edits=[(S + "Store/BTree.swift", "        free(small)\n        retired.append(neighbour)\n", "        free(small)\n        free(neighbour)\n")]),
    dict(id="mremap-frees-old-vma-at-once", strategy="spf-rcu", expect="UAF",
         edits=[(OPS, "        vmaRetire(v)\n        return MutationResult(status: .done, touched: [old, gap])",
                 "        mm.put(v)\n        return MutationResult(status: .done, touched: [old, gap])")]),
    dict(id="merge-frees-absorbed-at-once", strategy="per-vma-lock", expect="UAF",
         edits=[(OPS, "        vmaRetire(right)\n    }", "        mm.put(right)\n    }")]),
    # --- issue 33: an mm hold never dropped ---
    dict(id="pvr-foreign-release-keeps-mm", strategy="per-vma-refcount", expect="LEAK",
         args="--mm-churn --churn-pages 512 --mix hot=100",
         edits=[(PVR, "        mm.mms.drop(owner)\n        return r", "        return r")]),
    # --- issue 33: a report lost on its way to the verdict (run on a twin that breaks the invariant) ---
    dict(id="verdict-fault-check-drops-stale-pte", strategy="busted-no-recheck", expect="STALE-PTE",
         args="--mutators 2 --mix hot=100",
         edits=[(S + "Run/Workers.swift", "    if let f = Finding.ofFault(page, write: write, r, stable: stable, guardRegion: guardRegion) {",
                 "    if let f = Finding.ofFault(page, write: write, r, stable: stable, guardRegion: guardRegion), f.invariant != .stalePTE {")]),
    dict(id="verdict-log-drops-uaf", strategy="busted-free-no-gp", expect="UAF",
         edits=[(S + "Check/Violation.swift", "    public func report(_ f: Finding, thread: String) {\n",
                 "    public func report(_ f: Finding, thread: String) {\n        if f.invariant == .uaf { return }\n")]),
    # --- issue 33: a check that cannot fail (it never runs, and the run still lists it) ---
    dict(id="spf-rcu-pin-skips-pipe", strategy="spf-rcu", expect="PIPE",
         edits=[(S + "Strategies/Speculative/SPFRCU.swift", "        if let seen = ctx.readPipe(v, id: id) { return .violation(seen) }\n", "")]),
    dict(id="pvr-commit-skips-reuse-check", strategy="per-vma-refcount", expect="REUSE",
         edits=[(PVR, "        if let r = ctx.checkReuse(v, id: id, mm, page) {", "        if false, let r = ctx.checkReuse(v, id: id, mm, page) {")]),
    dict(id="inline-checks-off-under-full", strategy="per-vma-lock", expect="UAF",
         edits=[(S + "Run/Workers.swift", "        ctx.checks = check != .off\n", "        ctx.checks = false\n")]),
]
