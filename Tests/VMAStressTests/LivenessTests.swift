import Glibc
import Synchronization
import Testing
@testable import VMAStress

/// What the hanging twins below wait on; a test releases them once its run
/// has returned, so no stuck thread burns a CPU for the rest of the suite.
enum Hang {
    static let released = Atomic<Bool>(true)
    static let faultsBeforeHang = Atomic<Int>(0)

    static func arm(faults: Int = 0) {
        faultsBeforeHang.store(faults, ordering: .relaxed)
        released.store(false, ordering: .relaxed)
    }

    static func wait() { while !released.load(ordering: .relaxed) { usleep(1000) } }

    static func release() {
        released.store(true, ordering: .relaxed)
        usleep(50_000)
    }
}

/// A fault that, after a while, spins until released: a worker stuck for ever.
struct HangingFault: BustedTwin {
    static let info = MMapLock.info.twin(name: "test-hanging-fault", summary: "", origin: "test", breaks: .stall)
    let base: MMapLock
    init(mm: MM) { base = MMapLock(mm: mm) }

    func fault(_ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult {
        if Hang.faultsBeforeHang.wrappingSubtract(1, ordering: .relaxed).newValue == 0 {
            while !Hang.released.load(ordering: .relaxed) {}
        }
        return base.fault(page, write: write, &ctx)
    }
}

/// A barrier that never returns: a grace period that never ends.
struct HangingBarrier: BustedTwin {
    static let info = MMapLock.info.twin(name: "test-hanging-barrier", summary: "", origin: "test", breaks: .stall)
    let base: MMapLock
    init(mm: MM) { base = MMapLock(mm: mm) }
    func quiesce() { Hang.wait() }
}

/// A write lock that never comes: the set-up never finishes.
struct HangingSetUp: BustedTwin {
    static let info = MMapLock.info.twin(name: "test-hanging-set-up", summary: "", origin: "test", breaks: .stall)
    let base: MMapLock
    init(mm: MM) { base = MMapLock(mm: mm) }
    func mmWriteLock() {
        Hang.wait()
        base.mmWriteLock()
    }
}

/// No wait in a run is unbounded: whatever hangs is a STALL report within
/// twice the stall timeout, and the run returns (no outside timeout needed).
@Suite("Liveness: hangs end as STALL reports", .serialized)
struct LivenessTests {
    static func run<S: Strategy>(_: S.Type) throws -> (RunResult, Double) {
        let config = RunConfig(strategy: "mmap-lock", faulters: 2, mutators: 1, durationSeconds: 20, warmupSeconds: 0,
                               seed: 5, checkpointIntervalSeconds: 0.2, stallTimeoutSeconds: 1)
        let t0 = Clock.nanos()
        let r = try Runner.run(S.self, config)
        let elapsed = Double(Clock.nanos() - t0) / 1e9
        Hang.release()
        return (r, elapsed)
    }

    static func expectStall(_ r: RunResult, _ elapsed: Double, reportedBy thread: String) throws {
        #expect(r.verdict == .failure)
        let first = try #require(r.violations.first)
        #expect(first.invariant == .stall, "\(first.text)")
        #expect(first.thread == thread, "\(first.text)")
        #expect(first.atSeconds < 2.5, "reported at \(first.atSeconds) s with a 1 s stall timeout")
        // The run was 20 s long: it ended on the stall, without anyone killing it.
        #expect(elapsed < 8, "the run took \(elapsed) s to return")
    }

    @Test func aWorkerSpinningForEverIsAStall() throws {
        Hang.arm(faults: 20_000)
        let (r, elapsed) = try Self.run(HangingFault.self)
        // The watchdog sees no progress, or the checker cannot park it: either way a STALL.
        let first = try #require(r.violations.first)
        try Self.expectStall(r, elapsed, reportedBy: first.thread == "checker" ? "checker" : "watchdog")
    }

    @Test func aGracePeriodThatNeverEndsIsAStall() throws {
        Hang.arm()
        let (r, elapsed) = try Self.run(HangingBarrier.self)
        try Self.expectStall(r, elapsed, reportedBy: "watchdog")
        #expect(r.violations.first?.seen.contains("barrier") == true, "\(r.violations.first?.text ?? "")")
    }

    @Test func aSetUpThatNeverEndsIsAStall() throws {
        Hang.arm()
        let (r, elapsed) = try Self.run(HangingSetUp.self)
        try Self.expectStall(r, elapsed, reportedBy: "set-up")
        #expect(r.ops.allSatisfy { $0.count == 0 })
    }
}
