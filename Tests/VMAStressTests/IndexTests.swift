import Glibc
import Testing
@testable import VMAStress

/// The two lookup trees against the ordered list, under random churn, and
/// the audit that must catch a broken one.
@Suite("Lookup trees: rbtree and B-tree")
struct IndexTests {
    /// Random mutations; after each, the tree's audit is clean and every page looks up the same VMA as the list.
    @Test(arguments: IndexKind.allCases)
    func treesFollowTheListThroughRandomChurn(_ kind: IndexKind) {
        var f = Fixture(pages: 1024, index: kind)
        defer { f.destroy() }
        var rng = RNG(seed: 42)
        let area = PageRange(16, 1000)
        let prots: [Prot] = [.readWrite, .read, .none]
        for step in 0..<600 {
            let start = area.start + rng.below(area.count - 40)
            let range = PageRange(start, start + 1 + rng.below(24))
            let prot = prots[Int(rng.below(3))]
            switch rng.below(4) {
            case 0: _ = f.s.mmap(count: 1 + rng.below(16), prot: prot, within: area, hint: start)
            case 1: _ = f.s.munmap(range)
            case 2: _ = f.s.mprotect(range, prot: prot)
            default: _ = f.s.mremap(vmaAt: start, within: area, hint: area.start + rng.below(area.count))
            }
            if step % 3 == 0 { _ = f.fault(start, write: true) }
            let problems = Audit.index(f.mm)
            #expect(problems.isEmpty, "step \(step): \(problems.map(\.seen))")
            if !problems.isEmpty { return }
            for page in UInt64(0)..<1024 where f.mm.index.find(page) != f.mm.list.find(page) {
                Issue.record("step \(step): page \(page) finds a different VMA in the \(kind)")
                return
            }
        }
        #expect(f.mm.index.count == f.mm.list.count && f.mm.list.count > 10)
    }

    @Test func btreeNodesReplacedByWritersAreFreedAfterAGracePeriod() {
        let f = Fixture(pages: 1024, index: .btree)
        defer { f.destroy() }
        MembRCU.registerThread()
        defer { MembRCU.unregisterThread() }
        let nodes = DeferredFree.treeNodes(f.mm, .memb)!
        for i in UInt64(0)..<200 { _ = f.s.mmapFixed(PageRange(start: 2 + i * 4, count: 2), prot: .readWrite) }
        for i in UInt64(0)..<200 where i % 3 == 0 { _ = f.s.munmap(PageRange(start: 2 + i * 4, count: 2)) }
        #expect(nodes.stats.retired > 100)
        nodes.barrier()
        #expect(nodes.stats.pending == 0)
        #expect(Audit.index(f.mm).isEmpty)
        let (_, problems) = f.mm.index.audit()
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test func theAuditCatchesARedRootAndABrokenOrder() {
        let f = Fixture(index: .rbtree)
        defer { f.destroy() }
        for i in UInt64(0)..<20 { _ = f.s.mmapFixed(PageRange(start: 10 + i * 3, count: 1), prot: .readWrite) }
        #expect(Audit.index(f.mm).isEmpty)
        let root = f.mm.index.rb.root!
        root.pointee.rbRed.store(true, ordering: .relaxed)
        #expect(Audit.index(f.mm).contains { $0.invariant == .tree && $0.seen.contains("root is red") })
        root.pointee.rbRed.store(false, ordering: .relaxed)
        // A VMA whose start moved without the tree knowing breaks the order.
        let v = f.mm.list.all[5]
        v.setStart(v.start + 1000)
        #expect(!Audit.index(f.mm).isEmpty)
        v.setStart(v.start - 1000)
    }

    @Test func theAuditCatchesABTreeKeyThatWasNotRestored() {
        let f = Fixture(index: .btree)
        defer { f.destroy() }
        for i in UInt64(0)..<40 { _ = f.s.mmapFixed(PageRange(start: 10 + i * 3, count: 1), prot: .readWrite) }
        #expect(Audit.index(f.mm).isEmpty)
        let v = f.mm.list.all[7]
        v.setStart(v.start - 1)
        #expect(Audit.index(f.mm).contains { $0.seen.contains("leaf key") })
        v.setStart(v.start + 1)
        #expect(Audit.index(f.mm).isEmpty)
    }

    /// A fault that runs while take-all-locks holds everything, and ignores
    /// every lock, changes a PTE: the operation's own check reports it.
    @Test func takeAllLocksReportsAPTEThatChangesUnderIt() throws {
        let f = Fixture()
        defer { f.destroy() }
        _ = f.s.mmapFixed(PageRange(10, 500), prot: .readWrite)
        #expect(f.s.takeAllLocks().status == .done)
        #expect(Audit.allLocks(f.mm).isEmpty)
        let mm = f.mm
        let stop = Flag(), started = Flag()
        let rogue = try OSThread.spawn(name: "rogue") {
            var page: UInt64 = 10
            started.set()
            while !stop.isSet {
                _ = mm.installPTE(page, gen: 1, write: true)
                mm.pageTable.zap(PageRange(page, page + 1))
                page = page == 499 ? 10 : page + 1
            }
        }
        while !started.isSet { usleep(100) }
        var found: [Finding] = []
        let deadline = Clock.nanos() + 5_000_000_000
        while found.isEmpty && Clock.nanos() < deadline {
            _ = f.s.takeAllLocks()
            found = Audit.allLocks(f.mm)
        }
        stop.set()
        rogue.join()
        #expect(found.first?.invariant == .stalePTE, "the rogue writer was never seen")
    }
}

/// Lockless walks while a writer inserts, erases and rotates: the rbtree,
/// retried under the mm seqlock, and the B-tree, under RCU without any
/// retry, always find the VMAs that never change.
@Suite("Lookup trees under a concurrent writer", .serialized)
struct ConcurrentIndexTests {
    @Test(arguments: IndexKind.allCases)
    func locklessWalksFindStableVMAsWhileAWriterChurns(_ kind: IndexKind) throws {
        let mm = MM(pages: 4096, maxVMAs: 2048, index: kind)
        let s = SPFRCU<MembRCU>(mm: mm)
        // VMAs at 10, 30, 50, ... never change; the writer churns the pages between them.
        for i in UInt64(0)..<100 { _ = s.mmapFixed(PageRange(start: 10 + i * 20, count: 4), prot: .read, flags: 1) }
        let stop = Flag()
        let writer = try OSThread.spawn(name: "writer") {
            var ctx = WorkerStats(name: "writer", role: .mutator, index: 0).faultContext()
            s.threadStart(&ctx)
            var rng = RNG(seed: 9)
            while !stop.isSet {
                let base = 10 + rng.below(100) * 20 + 5
                let r = PageRange(start: base + rng.below(6), count: 1 + rng.below(8))
                _ = rng.below(2) == 0 ? s.mmapFixed(r, prot: .readWrite) : s.munmap(r)
            }
            s.threadStop(&ctx)
        }
        MembRCU.registerThread()
        var rng = RNG(seed: 3)
        var misses = 0, lookups = 0, retries = 0
        let deadline = Clock.nanos() + 1_000_000_000
        while Clock.nanos() < deadline {
            let i = rng.below(100)
            let page = 10 + i * 20 + rng.below(4)
            var found: VMAPtr?
            var restarts: UInt64 = 0
            while true {
                let seq = mm.seqReadBegin()
                MembRCU.readLock()
                var freed: UInt64 = 0
                found = mm.index.find(page, restarts: &restarts, freed: &freed)
                let start = found?.start
                MembRCU.readUnlock()
                if kind == .btree || !mm.seqReadRetry(seq) {
                    if start != 10 + i * 20 { misses += 1 }
                    break
                }
                retries += 1
            }
            lookups += 1
        }
        MembRCU.unregisterThread()
        stop.set()
        writer.join()
        s.quiesce()
        #expect(misses == 0, "\(misses) of \(lookups) lookups missed a stable VMA on the \(kind)")
        #expect(lookups > 10_000)
        #expect(Audit.index(mm).isEmpty)
        s.shutdown()
        mm.destroy()
    }
}
