import Foundation
import Synchronization
import Testing
@testable import VMAStress

/// ConcurrencyKit's validate: every primitive survives its stress, and every
/// busted twin is caught by the same stress within 5 s.
@Suite("Primitive validation", .serialized)
struct PrimitiveValidationTests {
    static let correct = PrimitiveValidation.all.filter { !$0.busted }.map(\.name)
    static let busted = PrimitiveValidation.all.filter(\.busted).map(\.name)

    @Test(arguments: correct)
    func primitiveSurvivesItsStress(_ name: String) {
        let r = PrimitiveValidation.run([PrimitiveValidation.named(name)!], seconds: 0.5, bustedSeconds: 5)[0]
        #expect(r.failures == 0, "\(name): \(r.failures) failures, pipe \(r.pipe ?? [])")
        #expect(r.operations > 0 && r.updates > 0, "\(name) did no work")
    }

    @Test(arguments: busted)
    func bustedTwinIsCaughtWithinFiveSeconds(_ name: String) {
        let r = PrimitiveValidation.run([PrimitiveValidation.named(name)!], seconds: 0.5, bustedSeconds: 5)[0]
        #expect(r.failures > 0, "\(name) was not caught")
        #expect((r.firstFailureSeconds ?? 99) < 5)
        if let pipe = r.pipe { #expect(pipe.dropFirst(2).reduce(0, +) > 0) }
    }
}

@Suite("SRCU and deferred free", .serialized)
struct SRCUTests {
    @Test func synchronizeWaitsForAReaderInsideItsSection() throws {
        let srcu = SRCU()
        defer { srcu.shutdown() }
        let reader = try #require(srcu.registerReader())
        let idx = reader.lock()
        let done = Flag()
        let t = try OSThread.spawn(name: "srcu-sync") {
            srcu.synchronize()
            done.set()
        }
        usleep(100_000)
        #expect(!done.isSet, "synchronize_srcu returned while a reader was inside")
        reader.unlock(idx)
        t.join()
        #expect(done.isSet)
        #expect(srcu.gracePeriods == 1)
        srcu.unregister(reader)
    }

    @Test func aReaderThatStartsAfterTheFlipDoesNotHoldTheGracePeriod() throws {
        let srcu = SRCU()
        defer { srcu.shutdown() }
        let reader = try #require(srcu.registerReader())
        srcu.synchronize()
        let idx = reader.lock()
        // The inactive index is drained, so a second grace period waits only for this reader.
        #expect(!srcu.drained(idx))
        #expect(srcu.drained(1 - idx))
        reader.unlock(idx)
        #expect(srcu.drained(idx))
    }

    @Test(arguments: ["rcu-memb", "rcu-qsbr", "srcu"])
    func deferredFreeReclaimsEverythingAndKeepsTheBooks(_ source: String) {
        let srcu = SRCU()
        defer { srcu.shutdown() }
        let reclaimed = Counter()
        let engine = DeferredFree(source: source == "srcu" ? .srcu(srcu) : .rcu(source == "rcu-qsbr" ? .qsbr : .memb)) { header in
            reclaimed.add()
            header.deallocate()
        }
        for _ in 0..<100 {
            let h = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
            engine.retire(h, bytes: 64)
        }
        engine.barrier()
        let stats = engine.stats
        #expect(reclaimed.value == 100)
        #expect(stats.retired == 100 && stats.pending == 0 && stats.pendingBytes == 0)
        #expect(stats.maxPending >= 1 && stats.maxPendingBytes >= 64 && stats.meanPending >= 1)
        #expect(stats.gracePeriodNs.samples == 100 && stats.gracePeriodNs.p50 > 0)
    }

    @Test func bustedSRCUCallbacksRunBeforeTheGracePeriod() throws {
        let srcu = SRCU(callbacksBeforeGracePeriod: true)
        defer { srcu.shutdown() }
        let reader = try #require(srcu.registerReader())
        let idx = reader.lock()
        let reclaimed = Counter()
        let engine = DeferredFree(source: .srcu(srcu)) { header in
            reclaimed.add()
            header.deallocate()
        }
        engine.retire(.allocate(byteCount: 64, alignment: 64), bytes: 64)
        usleep(100_000)
        #expect(reclaimed.value == 1, "the busted worker reclaims while a reader is inside")
        reader.unlock(idx)
        engine.barrier()
        srcu.unregister(reader)
    }
}

@Suite("Locks")
struct LockTests {
    @Test func qrwlockTryLocks() {
        let p = UnsafeMutablePointer<QRWLock>.allocate(capacity: 1)
        defer { p.deallocate() }
        p.initialize(to: QRWLock())
        let a = p.pointee.tryReadLock(), b = p.pointee.tryWriteLock()
        #expect(a && !b)
        p.pointee.readUnlock()
        let c = p.pointee.tryWriteLock(), d = p.pointee.tryReadLock()
        #expect(c && !d)
        p.pointee.writeUnlock()
        p.pointee.readLock()
        p.pointee.readLock()
        p.pointee.readUnlock()
        p.pointee.readUnlock()
        let e = p.pointee.tryWriteLock()
        #expect(e)
        p.pointee.writeUnlock()
    }
}

final class Flag: Sendable {
    private let v = Atomic<Bool>(false)
    func set() { v.store(true, ordering: .releasing) }
    var isSet: Bool { v.load(ordering: .acquiring) }
}

final class Counter: Sendable {
    private let v = Atomic<Int>(0)
    func add() { v.wrappingAdd(1, ordering: .relaxed) }
    var value: Int { v.load(ordering: .relaxed) }
}
