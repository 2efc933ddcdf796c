import Glibc

/// One kind of worker thread, as `drive` runs it. The driver owns the
/// thread's life: the strategy's thread start and stop, the gate (the
/// checkpoints, the start of the measured window, the stop), progress for
/// the watchdog, quiescent states and the CPUs the thread ran on. A kind
/// supplies its step and, if it needs them, what to do around a check-in and
/// after the stop. Generic, not an existential: `drive` is specialised per
/// kind and strategy, so the step is inlined into the loop.
protocol WorkerKind {
    associatedtype S: Strategy
    /// A quiescent state after every this many steps (a power of two).
    var quiescentEvery: UInt64 { get }
    /// The CPU the thread is on is noted after every this many steps (a power of two).
    var cpuEvery: UInt64 { get }
    /// One time round the loop: an operation, a few, or a wait.
    mutating func step(_ s: S, _ ctx: inout FaultContext, _ n: UInt64)
    /// Before the thread checks in with the run (a checkpoint, the window's start, the stop).
    mutating func willCheckIn()
    /// After a check-in that did not stop the thread; `measuring`: the window has begun.
    mutating func didCheckIn(measuring: Bool)
    /// After the stop and the end of the thread's window.
    mutating func stopped()
}

extension WorkerKind {
    var quiescentEvery: UInt64 { 16 }
    var cpuEvery: UInt64 { 4096 }
    mutating func willCheckIn() {}
    mutating func didCheckIn(measuring: Bool) {}
    mutating func stopped() {}
}

/// Runs `kind` on this thread until the run stops it. A function of its
/// own, specialised per kind and strategy, with the step inlined. Measured
/// A/B against the hand-written loops (read-mostly, one faulter: the loop's
/// own cost is largest beside a present fault of 35-50 ns): 0.97-1.00 so;
/// 0.95-0.98 inlined into the thread's closure or into a function per kind.
@inline(never)
func drive<K: WorkerKind>(_ kind: K, _ s: K.S, _ w: WorkerStats, _ env: WorkerEnv, _ ctx: FaultContext) {
    var kind = kind, ctx = ctx
    s.threadStart(&ctx)
    defer { s.threadStop(&ctx) }
    FaultWork.threadStart()
    let progress = w.progress, cpusSeen = w.cpusSeen
    let quiescentMask = kind.quiescentEvery - 1, cpuMask = kind.cpuEvery - 1
    var gate = WorkerGate()
    var n: UInt64 = 0
    while true {
        if gate.asked(env.control) {
            kind.willCheckIn()
            if gate.checkIn(s, w, env.control) { break }
            kind.didCheckIn(measuring: gate.measuring)
        }
        kind.step(s, &ctx, n)
        n &+= 1
        progress.pointee.store(n, ordering: .relaxed)
        if n & quiescentMask == 0 { s.quiescentState() }
        if n & cpuMask == 0 { noteCPU(cpusSeen) }
    }
    gate.finish(w)
    kind.stopped()
}

/// A worker's side of `RunControl`, checked between operations: one relaxed
/// load on the fast path; parks, starts measuring or stops on the slow path.
struct WorkerGate {
    private(set) var handledEpoch = UInt64.max
    private(set) var measuring = false

    /// True when the run has asked something of its workers since this one last checked in.
    @inline(__always)
    func asked(_ control: RunControl) -> Bool { control.epoch != handledEpoch }

    /// True when the worker must stop.
    @inline(__always)
    mutating func shouldStop<S: Strategy>(_ s: S, _ w: WorkerStats, _ control: RunControl) -> Bool {
        asked(control) ? checkIn(s, w, control) : false
    }

    /// Answers what the run asked (offline meanwhile, for QSBR); true when the worker must stop.
    @inline(never)
    mutating func checkIn<S: Strategy>(_ s: S, _ w: WorkerStats, _ control: RunControl) -> Bool {
        while control.epoch != handledEpoch {
            handledEpoch = control.epoch
            s.threadOffline()
            let (command, measure) = control.checkIn()
            s.threadOnline()
            if command == .stop { return true }
            if measure && !measuring {
                measuring = true
                w.beginMeasuring()
            }
        }
        return false
    }

    /// A worker with nothing left it can do (a capacity ran out, and the run has a finding
    /// that says why) still checks in, so checkpoints and the stop go on without it stalling.
    mutating func idleUntilStop(_ w: WorkerStats, _ control: RunControl) {
        while true {
            while control.epoch != handledEpoch {
                handledEpoch = control.epoch
                let (command, measure) = control.checkIn()
                if command == .stop { return }
                if measure && !measuring {
                    measuring = true
                    w.beginMeasuring()
                }
            }
            w.progress.pointee.wrappingAdd(1, ordering: .relaxed)
            usleep(1000)
        }
    }

    func finish(_ w: WorkerStats) { if measuring { w.endMeasuring() } }
}
