import Glibc
import Synchronization

/// How the harness steers its workers: pause them at an operation boundary
/// (checkpoints), start the measured window, stop them.
///
/// A worker's fast path is one relaxed load of `epoch` per operation; any
/// request bumps the epoch, and the worker takes the slow path to read it.
public struct RunControl: @unchecked Sendable {
    public enum Command: UInt8 { case run = 0, pause = 1, stop = 2 }

    struct State: ~Copyable {
        let epoch = Atomic<UInt64>(0)
        let command = Atomic<UInt8>(Command.run.rawValue)
        let measuring = Atomic<Bool>(false)
        let parked = Atomic<Int>(0)
        let resumes = Atomic<UInt64>(0)
        let pausedNanos = Atomic<UInt64>(0)
    }

    let state: UnsafeMutablePointer<State>
    public let workers: Int

    public init(workers: Int) {
        self.workers = workers
        state = .allocate(capacity: 1)
        state.initialize(to: State())
    }

    public func destroy() {
        state.deinitialize(count: 1)
        state.deallocate()
    }

    // MARK: Worker side

    /// The fast-path check: compare with the epoch the worker last handled.
    @inline(__always) public var epoch: UInt64 { state.pointee.epoch.load(ordering: .relaxed) }

    /// The slow path, at an operation boundary. Parks while paused. Returns
    /// the command to act on (`.run` or `.stop`) and whether measuring is on.
    public func checkIn() -> (command: Command, measuring: Bool) {
        // acquiring: pairs with `request`'s releasing bump.
        atomicMemoryFence(ordering: .acquiring)
        while true {
            let cmd = Command(rawValue: state.pointee.command.load(ordering: .acquiring))!
            if cmd != .pause { return (cmd, state.pointee.measuring.load(ordering: .relaxed)) }
            let seen = state.pointee.resumes.load(ordering: .acquiring)
            // Re-check: a resume between the two loads would otherwise be missed.
            if state.pointee.command.load(ordering: .acquiring) != Command.pause.rawValue { continue }
            // releasing: the checker sees every store of this worker's last operation.
            state.pointee.parked.wrappingAdd(1, ordering: .releasing)
            while state.pointee.resumes.load(ordering: .acquiring) == seen { usleep(50) }
            state.pointee.parked.wrappingSubtract(1, ordering: .releasing)
        }
    }

    // MARK: Harness side

    func request(_ cmd: Command) {
        state.pointee.command.store(cmd.rawValue, ordering: .releasing)
        state.pointee.epoch.wrappingAdd(1, ordering: .releasing)
    }

    /// Asks every worker to park; waits until all have, or `timeout` passes.
    public func pauseAll(timeoutNanos: UInt64) -> Bool {
        request(.pause)
        let deadline = Clock.nanos() + timeoutNanos
        // acquiring: the workers' stores before parking are visible to the scans that follow.
        while state.pointee.parked.load(ordering: .acquiring) < workers {
            if Clock.nanos() > deadline { return false }
            usleep(50)
        }
        return true
    }

    /// Lets parked workers go and waits until they have left the park.
    public func resumeAll() {
        request(.run)
        state.pointee.resumes.wrappingAdd(1, ordering: .releasing)
        while state.pointee.parked.load(ordering: .acquiring) > 0 { usleep(20) }
    }

    public func startMeasuring() {
        state.pointee.measuring.store(true, ordering: .relaxed)
        request(Command(rawValue: state.pointee.command.load(ordering: .relaxed))!)
    }

    public var isMeasuring: Bool { state.pointee.measuring.load(ordering: .relaxed) }

    public func stopAll() {
        request(.stop)
        state.pointee.resumes.wrappingAdd(1, ordering: .releasing)
    }

    /// Time workers spent parked inside the measured window (excluded from ops/s).
    public func addPaused(nanos: UInt64) { state.pointee.pausedNanos.wrappingAdd(nanos, ordering: .relaxed) }
    public var pausedNanos: UInt64 { state.pointee.pausedNanos.load(ordering: .relaxed) }
}
