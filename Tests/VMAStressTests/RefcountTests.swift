import Testing
@testable import VMAStress

/// per-vma-refcount's pieces: vm_refcnt's writer bit, the type-safe cache,
/// the mm cache, and runs with several mms and short-lived ones.
@Suite("Per-VMA locks on a reference count", .serialized)
struct RefcountTests {
    @Test func readersStopAtZeroAndAtTheWritersBit() {
        let r = RefCount(0)
        let bit = PerVMARefcount<MembRCU>.writerBit, limit = PerVMARefcount<MembRCU>.refLimit
        let atZero = r.getUnlessZeroLimited(limit)
        #expect(atZero == .zero)
        r.setReleasing(1)
        let attached = r.getUnlessZeroLimited(limit)
        let two = r.value
        #expect(attached == .taken && two == 2)
        let writer = r.addUnlessZero(bit)
        let whileWriting = r.getUnlessZeroLimited(limit)
        #expect(writer && whileWriting == .overLimit)
        // The reader's put leaves only the writer and the tree's count: it wakes the writer.
        let put = r.decrement()
        #expect(PerVMARefcount<MembRCU>.leavesWriterOnly(put))
        let emptied = r.subtract(bit)
        let one = r.value
        #expect(!emptied && one == 1)
        let last = r.decrement()
        let detachedWriter = r.addUnlessZero(bit)
        #expect(last == 1 && !detachedWriter, "a detached VMA needs no draining")
    }

    @Test func aTypeSafeCacheHandsAFreedRecordOutAgainAtOnce() {
        let mm = MM(pages: 256, maxVMAs: 16)
        defer { mm.destroy() }
        mm.vmas.setTypeSafe()
        let v = mm.allocateVMA(PageRange(1, 4), prot: .read, flags: 0, gen: 1)!
        #expect(v.pointee.refs.value == 0, "detached until attached")
        #expect(v.owner == mm.identity)
        let id = v.id
        mm.vmas.free(v)
        #expect(v.tag == VMA.typeSafeFree && v.start == 1, "freed, still readable as a VMA")
        let w = mm.allocateVMA(PageRange(9, 12), prot: .readWrite, flags: 0, gen: 2)!
        #expect(w == v && w.id != id && w.isLive)
    }

    @Test func anMMIsDestroyedAtItsLastDrop() {
        let cache = MMCache(capacity: 4)
        defer { cache.destroy() }
        let a = cache.allocate()!
        cache.grab(a)
        cache.drop(a)
        #expect(cache.isLive(a) && cache.wakeWriter(a))
        cache.drop(a)
        #expect(!cache.isLive(a) && !cache.wakeWriter(a), "a destroyed mm's writer cannot be woken")
        #expect(cache.destroyedCount == 1)
        let b = cache.allocate()!
        #expect(b != a && MMCache.describe(b).hasPrefix("slot "))
    }

    /// Every short-lived mm gives back all it took (the tree's deferred
    /// free, its writer, its page tables): runs of hundreds of lives each,
    /// one after another, leave the settled RSS where the first left it.
    @Test(arguments: ["per-vma-refcount", "spf-srcu"])
    func shortLivedMMsReturnTheirMemory(_ strategy: String) throws {
        var c = RunConfig(strategy: strategy, faulters: 1, mutators: 1, durationSeconds: 1,
                          warmupSeconds: 0, seed: 3, checkpointIntervalSeconds: 0.5)
        c.mmChurn = true
        try c.validate()
        _ = try Runner.run(c)
        let before = RSS.settledKiB()
        var lives = 0
        for _ in 0..<3 {
            let r = try Runner.run(c)
            #expect(r.verdict == .success)
            lives += Int(r.mms?.destroyed ?? 0)
        }
        let grown = RSS.settledKiB() - before
        #expect(lives >= 300, "\(lives) mms destroyed")
        #expect(grown < 16 * 1024, "RSS grew \(grown) KiB over \(lives) short-lived mms")
    }

    /// Clean with four mms and short-lived ones beside them, on two flavors;
    /// records move between mms, lookups speculate.
    @Test(arguments: [RCUFlavorKind.memb, .qsbr])
    func cleanWithSeveralProcesses(_ flavor: RCUFlavorKind) throws {
        var c = RunConfig(strategy: "per-vma-refcount", faulters: 4, mutators: 4, durationSeconds: 3,
                          warmupSeconds: 0, seed: 7, checkpointIntervalSeconds: 0.5, rcuFlavor: flavor)
        c.mms = 4
        c.mmChurn = true
        c.mix.lookupPercent = 5
        try c.validate()
        let r = try Runner.run(c)
        #expect(r.verdict == .success, "\(r.violations.map(\.text))")
        #expect(r.checker.invariantsChecked.contains(.reuse))
        #expect((r.mms?.destroyed ?? 0) > 0)
        #expect((r.faultEvents["speculate-success"] ?? 0) > 0)
        #expect((r.op(.lookup)?.count ?? 0) > 0)
        #expect(r.reproduce.contains("--mms 4 --mm-churn"))
    }

    /// --lockstep: one mutator's every call goes to both mms, which stay
    /// copies, so each call ends the same way twice: every count is even.
    @Test func lockstepKeepsTheMMsCopiesOfOneAnother() throws {
        var c = RunConfig(strategy: "per-vma-refcount", faulters: 2, mutators: 1, durationSeconds: 1,
                          warmupSeconds: 0, seed: 5, checkpointIntervalSeconds: 0.5)
        c.mms = 2
        c.lockstep = true
        c.vmas = 4096
        c.layout = c.layout.holding(vmas: c.vmas)
        try c.validate()
        let r = try Runner.run(c)
        #expect(r.verdict == .success, "\(r.violations.map(\.text))")
        for kind in [OpKind.mmap, .munmap, .mprotect, .mremap] {
            let op = try #require(r.op(kind))
            #expect(op.count % 2 == 0 && op.failed % 2 == 0, "\(kind.name): \(op.count) done, \(op.failed) failed")
        }
        #expect(r.store.vmasAtEnd % 2 == 0)
        #expect(r.reproduce.contains("--mms 2 --lockstep"))
    }
}
