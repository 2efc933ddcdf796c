import Glibc
import Synchronization
import Testing
@testable import VMAStress

/// Races forced on purpose through the read-point hook, so that a window
/// the random delays open once in a while is opened every time.
@Suite("Forced interleavings", .serialized)
struct ForcedInterleavingTests {
    /// What the faulting thread and the test share.
    final class Rendezvous: @unchecked Sendable {
        let holdAt: Int32
        let arrived = Atomic<Bool>(false)
        let writerStarted = Atomic<Bool>(false)
        let writerDone = Atomic<Bool>(false)
        init(holdAt point: ReadPoint) { holdAt = Int32(point.rawValue) }
    }

    /// At `holdAt` (once): say so, wait for the writer to start, then give
    /// it 200 ms to finish before going on. A writer that respects the
    /// fault's lock cannot finish, and the fault goes on after the wait.
    static let hold: ReadPointHook = { point, raw in
        let r = Unmanaged<Rendezvous>.fromOpaque(raw!).takeUnretainedValue()
        guard point == r.holdAt, !r.arrived.load(ordering: .relaxed) else { return }
        r.arrived.store(true, ordering: .releasing)
        while !r.writerStarted.load(ordering: .acquiring) { usleep(100) }
        let until = Clock.nanos() + 200_000_000
        while !r.writerDone.load(ordering: .acquiring) && Clock.nanos() < until { usleep(100) }
    }

    /// A speculative fault that passed its commit check and holds the PTL
    /// while mremap moves the VMA's page tables. The move must wait for the
    /// PTL and carry the new PTE along; before the fix it looked at the
    /// empty PTE without the lock, skipped it, and the fault's PTE stayed
    /// behind in the old range (the spf-rwlock FAILURE under load).
    static func mremapAgainstFaultUnderPTL<S: Strategy>(_: S.Type, index: IndexKind) throws -> [Finding] {
        let mm = MM(pages: 1024, maxVMAs: 64, index: index)
        let s = S(mm: mm)
        let stats = WorkerStats(name: "writer", role: .mutator, index: 0)
        var ctx = stats.faultContext()
        ctx.delays = false
        s.threadStart(&ctx)
        #expect(s.mmapFixed(PageRange(100, 110), prot: .readWrite).status == .done)
        // A PTE in the VMA's table, so the speculative path finds a table to
        // commit into; past the faulted page, so the move meets the fault's page first.
        #expect(s.fault(109, write: true, &ctx).succeeded)

        let r = Rendezvous(holdAt: .underPTL)
        let raw = UInt(bitPattern: Unmanaged.passRetained(r).toOpaque())
        defer { Unmanaged<Rendezvous>.fromOpaque(UnsafeRawPointer(bitPattern: raw)!).release() }
        let faulter = WorkerStats(name: "faulter", role: .faulter, index: 0)
        let result = Mutex<FaultResult?>(nil)
        let t = try OSThread.spawn(name: "faulter") {
            var fctx = faulter.faultContext()
            fctx.delays = false
            fctx.hook = ForcedInterleavingTests.hold
            fctx.hookContext = UnsafeMutableRawPointer(bitPattern: raw)
            s.threadStart(&fctx)
            let out = s.fault(103, write: true, &fctx)
            s.threadStop(&fctx)
            result.withLock { $0 = out }
        }
        while !r.arrived.load(ordering: .acquiring) { usleep(100) }
        r.writerStarted.store(true, ordering: .releasing)
        #expect(s.mremap(vmaAt: 100, within: PageRange(100, 300), hint: 200).status == .done)
        r.writerDone.store(true, ordering: .releasing)
        t.join()
        #expect(result.withLock { $0 } == .installed, "the fault was held under its PTL and went on")
        s.quiesce()
        let found = Audit.ptes(mm)
        s.threadStop(&ctx)
        s.shutdown()
        mm.destroy()
        return found
    }

    @Test func spfRWLockMremapWaitsForTheFaultsPTL() throws {
        let found = try Self.mremapAgainstFaultUnderPTL(SPFRWLock.self, index: .rbtree)
        #expect(found.isEmpty, "\(found)")
    }

    @Test func spfSRCUMremapWaitsForTheFaultsPTL() throws {
        let found = try Self.mremapAgainstFaultUnderPTL(SPFSRCU.self, index: .rbtree)
        #expect(found.isEmpty, "\(found)")
    }

    @Test func spfRCUMremapWaitsForTheFaultsPTL() throws {
        let found = try Self.mremapAgainstFaultUnderPTL(SPFRCU<MembRCU>.self, index: .rbtree)
        #expect(found.isEmpty, "\(found)")
    }

    @Test func perVMALockMremapWaitsForTheFaultsVMALock() throws {
        let found = try Self.mremapAgainstFaultUnderPTL(PerVMALock<MembRCU>.self, index: .btree)
        #expect(found.isEmpty, "\(found)")
    }
}
