import Testing
@testable import VMAStress

/// Each audit fails on a store broken by hand: a check that cannot fail proves nothing.
@Suite("Audits catch corrupted stores")
struct AuditTests {
    @Test func treeCatchesOverlapDetachedAndDuplicates() {
        let f = Fixture()
        defer { f.destroy() }
        _ = f.s.mmapFixed(PageRange(10, 20), prot: .read)
        #expect(Audit.tree(f.mm).isEmpty)
        let v = f.mm.allocateVMA(PageRange(15, 25), prot: .read, flags: 0, gen: 1)!
        _ = f.mm.list.insert(v)
        v.setAttached(true)
        #expect(Audit.tree(f.mm).contains { $0.invariant == .tree && $0.seen.contains("overlaps") })
        #expect(!Audit.tree(f.mm, around: PageRange(15, 16)).isEmpty)
        v.setAttached(false)
        #expect(Audit.tree(f.mm).contains { $0.seen == "marked detached" })
    }

    /// A violation outcome the faults counted with no report of its invariant fails the run.
    @Test func aLostReportIsCaughtByTheVerdictsSelfCheck() {
        let w = WorkerStats(name: "faulter-0", role: .faulter, index: 0)
        let log = ViolationLog(strategy: "t", seed: 1, reproduce: "r", keepGoing: true)
        #expect(Runner.unreportedOutcomes([w], log).isEmpty)
        w.counters[WorkerStats.outcomeBase + FaultResult.Kind.reuse.rawValue] = 3
        w.counters[WorkerStats.outcomeBase + FaultResult.Kind.installed.rawValue] = 9
        #expect(Runner.unreportedOutcomes([w], log).map(\.invariant) == [.reuse])
        log.report(Finding(.reuse, expected: "x", seen: "y"), thread: "t")
        #expect(Runner.unreportedOutcomes([w], log).isEmpty)
    }

    /// mmgrab without mmdrop, on a live mm and on one that exited.
    @Test func mmLeakCatchesAnExtraHoldAndAnExitedMMStillAlive() {
        let cache = MMCache(capacity: 4)
        defer { cache.destroy() }
        let a = cache.allocate()!, b = cache.allocate()!
        #expect(Audit.mmLeak(cache).isEmpty)
        cache.grab(a)
        #expect(Audit.mmLeak(cache).map(\.seen) == ["mm \(MMCache.describe(a)) has mm_count 2"])
        cache.drop(a)
        cache.grab(b)
        cache.exit(b)
        #expect(Audit.mmLeak(cache).first?.seen == "mm \(MMCache.describe(b)) exited but has mm_count 1")
        cache.drop(b)
        #expect(Audit.mmLeak(cache).isEmpty && !cache.isLive(b))
    }

    @Test func ptesCatchOrphansWrongGenerationAndWritableUnderReadOnly() {
        let f = Fixture()
        defer { f.destroy() }
        _ = f.s.mmapFixed(PageRange(10, 20), prot: .read)
        let gen = f.mm.list.find(10)!.gen
        let t = f.mm.pageTable.table(for: 0)
        t.setPTE(30, PTE(gen: gen, writable: false))
        #expect(Audit.ptes(f.mm).first?.expected == "no PTE where no VMA is mapped")
        t.setPTE(30, .none)
        t.setPTE(11, PTE(gen: gen + 7, writable: false))
        #expect(Audit.ptes(f.mm).first?.invariant == .stalePTE)
        t.setPTE(11, PTE(gen: gen, writable: true))
        #expect(Audit.ptes(f.mm).first?.expected == "read-only PTE under a read-only VMA")
        t.setPTE(11, PTE(gen: gen, writable: false))
        #expect(Audit.ptes(f.mm).isEmpty)
    }

    @Test func refsCatchExtraReferencesAndUnderflow() {
        let f = Fixture()
        defer { f.destroy() }
        _ = f.s.mmapFixed(PageRange(10, 20), prot: .read)
        let v = f.mm.list.find(10)!
        v.pointee.refs.get()
        #expect(Audit.refs(f.mm, underflowsBefore: 0).first?.seen == "2 references")
        _ = v.pointee.refs.put()
        #expect(Audit.refs(f.mm, underflowsBefore: 0).isEmpty)
        f.mm.evidence.noteRefUnderflow(v)
        #expect(Audit.refs(f.mm, underflowsBefore: 0).first?.expected == "no reference count underflow")
    }

    @Test func leakCatchesARecordNobodyFreed() {
        let f = Fixture()
        defer { f.destroy() }
        _ = f.s.mmapFixed(PageRange(10, 20), prot: .read)
        #expect(Audit.leak(f.mm).isEmpty)
        _ = f.mm.allocateVMA(PageRange(50, 60), prot: .read, flags: 0, gen: 5)
        #expect(Audit.leak(f.mm).first?.invariant == .leak)
        #expect(Audit.leak(f.mm, pending: 1).isEmpty)
    }

    @Test func freedRecordsArePoisoned() {
        let f = Fixture()
        defer { f.destroy() }
        let v = f.mm.allocateVMA(PageRange(1, 2), prot: .read, flags: 0, gen: 3)!
        #expect(v.isLive && v.checksumMatches)
        f.mm.vmas.free(v)
        #expect(!v.isLive)
        #expect(v.start == VMA.poison)
    }
}
