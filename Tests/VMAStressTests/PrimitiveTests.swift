import CURCUMemb
import Synchronization
import Testing
@testable import VMAStress

@Suite("Primitives")
struct PrimitiveTests {
    @Test func refCountSaturatesAndReportsUnderflow() {
        let p = UnsafeMutablePointer<RefCount>.allocate(capacity: 1)
        defer { p.deallocate() }
        p.initialize(to: RefCount(1))
        let check1 = p.pointee.put() == .last
        #expect(check1)
        let check2 = p.pointee.put() == .underflow
        #expect(check2)
        // An underflow saturates, and the count sticks there: the object leaks, never frees twice.
        let check3 = p.pointee.value == RefCount.saturated
        #expect(check3)
        p.pointee.set(0)
        let check4 = !p.pointee.getUnlessZero()
        #expect(check4)
        p.pointee.set(RefCount.saturated)
        p.pointee.get()
        let check5 = p.pointee.value == RefCount.saturated
        #expect(check5)
        let check6 = p.pointee.put() == .remaining
        #expect(check6)
        let check7 = p.pointee.value == RefCount.saturated
        #expect(check7)
    }

    @Test func seqCountIsOddInsideAWriteSectionAndRetriesAcrossOne() {
        let p = UnsafeMutablePointer<SeqCount>.allocate(capacity: 1)
        defer { p.deallocate() }
        p.initialize(to: SeqCount())
        let s = p.pointee.readBegin()
        let check8 = !p.pointee.readRetry(s)
        #expect(check8)
        p.pointee.writeBegin()
        let check9 = p.pointee.readRaw() & 1 == 1
        #expect(check9)
        p.pointee.writeEnd()
        let check10 = p.pointee.readRetry(s)
        #expect(check10)
    }

    @Test func rwsemExcludesWritersFromReaders() {
        let lock = RWSem()
        defer { lock.destroy() }
        lock.readLock()
        #expect(lock.tryReadLock())
        #expect(!lock.tryWriteLock())
        lock.readUnlock()
        lock.readUnlock()
        #expect(lock.tryWriteLock())
        #expect(!lock.tryReadLock())
        lock.writeUnlock()
    }

    @Test func spinLockTryLock() {
        let p = UnsafeMutablePointer<SpinLock>.allocate(capacity: 1)
        defer { p.deallocate() }
        p.initialize(to: SpinLock())
        let check11 = p.pointee.tryLock()
        #expect(check11)
        let check12 = !p.pointee.tryLock()
        #expect(check12)
        p.pointee.unlock()
        let check13 = !p.pointee.isLocked
        #expect(check13)
    }

    /// Every liburcu flavor, for real: a call_rcu callback on a VMA record's
    /// header runs, with the record recovered from the header.
    @Test(arguments: RCUFlavorKind.allCases)
    func callRCUReachesTheRecordThroughItsHeader(_ kind: RCUFlavorKind) throws {
        try kind.visit(CallRCUCheck())
    }

    @Test func rngIsReproducibleAndBounded() {
        var a = RNG(seed: 9), b = RNG(seed: 9)
        for _ in 0..<100 {
            let x = a.below(17)
            #expect(x == b.below(17) && x < 17)
        }
    }

    @Test func durationsParseAndFormat() throws {
        #expect(try DurationText.seconds("10s") == 10)
        #expect(try DurationText.seconds("2m") == 120)
        #expect(try DurationText.seconds("250ms") == 0.25)
        #expect(try DurationText.seconds("3") == 3)
        #expect(throws: DurationText.Invalid.self) { try DurationText.seconds("-3s") }
        #expect(throws: DurationText.Invalid.self) { try DurationText.seconds("soon") }
        #expect(DurationText.format(120) == "2m")
        #expect(DurationText.format(0.25) == "250ms")
        #expect(DurationText.format(10) == "10s")
    }
}

let rcuTestHits = Atomic<UInt64>(0)

struct CallRCUCheck: RCUFlavorVisitor {
    func visit<F: RCUFlavor>(_: F.Type) throws {
        let mm = MM(pages: 512, maxVMAs: 8)
        defer { mm.destroy() }
        F.registerThread()
        let v = mm.allocateVMA(PageRange(1, 2), prot: .read, flags: 0, gen: 42)!
        F.readLock()
        #expect(F.readOngoing || F.kind == .qsbr)
        F.readUnlock()
        rcuTestHits.store(0, ordering: .relaxed)
        F.call(VMAAllocator.header(of: v)) { header in
            rcuTestHits.store(VMAAllocator.vma(fromHeader: header!).gen, ordering: .relaxed)
        }
        // QSBR: a registered, online thread would hold up the grace period it waits for.
        F.unregisterThread()
        F.barrier()
        #expect(rcuTestHits.load(ordering: .relaxed) == 42, "\(F.kind)")
    }
}
