import CSupport
import Glibc

/// will-it-scale's testcases on the kernel backend run will-it-scale's own
/// loop, in C (`vms_task_start`), so that what is timed is the system calls
/// and the page touches and nothing of the harness:
/// - `--processes`: in a process of its own, forked from this thread
///   (will-it-scale's processes mode: no shared mm, so no mmap_lock or VMA
///   tree shared between workers);
/// - threads mode: in a thread of this process started from this one (its
///   CPU and memory placement inherited), every worker in the one mm, as
///   will-it-scale's `_threads` binaries run; mmap(NULL) and munmap land
///   wherever the kernel puts them, outside the backend's reservation.
///
/// This thread is the task's proxy in the run: it holds the task over
/// checkpoints (SIGSTOP; a thread waits at its next poll), moves its counters
/// and sampled latencies into this worker's WorkerStats every couple of
/// milliseconds, and takes the task's resource use for the measured window.
/// A task that ends before it is told to stop is reported as STABLE: a touch
/// of memory it mapped read-write killed the process, or failed in the thread.
func taskLoop<S: Strategy>(_ s: S, _ w: WorkerStats, _ env: WorkerEnv, inThread: Bool) {
    let shape = env.workload.spec.regions!
    let file = env.files[w.index]
    let kind = shape.heap ? Int32(VMS_TASK_BRK) : Int32(VMS_TASK_CHUNKS)
    let what = inThread ? "worker thread" : "worker process"
    guard let task = vms_task_create(kind, (shape.chunkPages ?? 1) * 4096, shape.touch ? 1 : 0, file.fd,
                                     file.shared ? 1 : 0, env.sampleMask, inThread ? 1 : 0) else {
        return failed("cannot map the shared page for its \(what): \(String(cString: strerror(errno)))")
    }
    let pid = vms_task_start(task)
    guard pid >= 0, inThread || pid > 0 else {
        vms_task_destroy(task)
        return failed("\(inThread ? "starting the thread" : "fork") failed: \(String(cString: strerror(-pid)))")
    }
    let who = inThread ? "\(w.name)'s \(what)" : "\(w.name)'s \(what) (pid \(pid))"
    let proxy = TaskProxyWorker<S>(proxy: TaskProxy(task: task, w: w, nsPerTick: env.nsPerTick), env: env,
                                   pid: pid, inThread: inThread, who: who)
    drive(proxy, s, w, env, w.faultContext())

    func failed(_ why: String) {
        env.log.report(Finding(.stall, expected: "\(w.name) starts its \(what)", seen: why), thread: w.name)
        var gate = WorkerGate()
        while !gate.shouldStop(s, w, env.control) { nap(2_000_000) }
        gate.finish(w)
    }
}

/// The proxy of a started task: it holds the task over every check-in
/// (SIGSTOP; a thread waits at its next poll), pulls its counters every
/// couple of milliseconds, and after the stop tells it to stop and waits.
struct TaskProxyWorker<S: Strategy>: WorkerKind {
    var proxy: TaskProxy
    let env: WorkerEnv
    let pid: Int32
    let inThread: Bool
    let who: String
    var running = true, measuring = false
    // No RCU reader and no placement of its own to note: the task is the worker.
    var quiescentEvery: UInt64 { 1 << 62 }
    var cpuEvery: UInt64 { 1 << 62 }

    var task: OpaquePointer { proxy.task }
    var w: WorkerStats { proxy.w }

    mutating func willCheckIn() { if running { _ = vms_task_pause(task, 1) } }

    mutating func didCheckIn(measuring now: Bool) {
        if running { _ = vms_task_pause(task, 0) }
        guard now && !measuring else { return }
        measuring = true
        proxy.pull()
        w.beginMeasuring()
        if running { _ = vms_task_snapshot(task, &proxy.w.usageStart, 1_000_000_000) }
    }

    mutating func step(_ s: S, _ ctx: inout FaultContext, _ n: UInt64) {
        proxy.pull()
        if running, case let .ended(how) = proxy.state(wait: false) {
            running = false
            env.log.report(Finding(.stable, expected: "\(who) runs until it is told to stop",
                                   seen: how ?? "it exited"), thread: w.name)
        }
        nap(2_000_000)
    }

    mutating func stopped() {
        // A thread that never stops cannot be killed: its page is left to it.
        var stuck = false
        defer { if !stuck { vms_task_destroy(task) } }
        if running {
            vms_task_stop(task)
            _ = vms_task_pause(task, 0)
            // It stops within a page touch or a system call: a process still running after the stall timeout is killed.
            let deadline = Clock.nanos() + env.stallNanos
            while case .running = proxy.state(wait: false), Clock.nanos() < deadline {
                nap(1_000_000)
            }
            if case .running = proxy.state(wait: false) {
                env.log.report(Finding(.stall, expected: "\(who) stops when told to",
                                       seen: "it was still running \(env.stallNanos / 1_000_000) ms later\(inThread ? "" : "; killed")"),
                               thread: w.name)
                if inThread {
                    stuck = true
                } else {
                    kill(pid, SIGKILL)
                    _ = proxy.state(wait: true)
                }
            }
        }
        proxy.pull()
        if measuring { w.usageEnd = proxy.usage }
    }
}

/// The proxy's side of one task: its counters and samples so far.
struct TaskProxy {
    let task: OpaquePointer
    let w: WorkerStats
    let nsPerTick: Double
    var seen = [UInt64](repeating: 0, count: Int(VMS_TASK_COUNTERS))
    var now = [UInt64](repeating: 0, count: Int(VMS_TASK_COUNTERS))
    var tail: UInt64 = 0
    var samples = [UInt64](repeating: 0, count: 4096)
    /// The task's resource use when it ended.
    var usage = rusage()

    init(task: OpaquePointer, w: WorkerStats, nsPerTick: Double) {
        self.task = task
        self.w = w
        self.nsPerTick = nsPerTick
    }

    /// Adds what the child did since the last pull to this worker's counters and histograms.
    mutating func pull() {
        now.withUnsafeMutableBufferPointer { vms_task_counters(task, $0.baseAddress) }
        // A touch that returns is `present`, as in the threads mode. Each operation that
        // returns is STABLE's evaluation: a failed touch or call ends the task, and the run
        // reports the task's end.
        let stable = WorkerStats.evaluatedBase + InlineCheck.stable.rawValue
        let into: [(Int, Int)] = [(0, WorkerStats.doneBase + OpKind.fault.rawValue),
                                  (0, WorkerStats.outcomeBase + FaultResult.Kind.present.rawValue),
                                  (0, stable), (1, stable), (2, stable),
                                  (1, WorkerStats.doneBase + OpKind.mmap.rawValue),
                                  (2, WorkerStats.doneBase + OpKind.munmap.rawValue),
                                  (3, WorkerStats.failedBase + OpKind.mmap.rawValue)]
        for (i, counter) in into { w.counters[counter] &+= now[i] &- seen[i] }
        seen = now
        let kinds: [OpKind] = [.fault, .mmap, .munmap]
        while true {
            let got = samples.withUnsafeMutableBufferPointer { vms_task_drain(task, &tail, $0.baseAddress, UInt64($0.count)) }
            for s in samples.prefix(Int(got)) {
                let kind = Int(s >> 56)
                guard kind < kinds.count else { continue }
                _ = w.histograms[kinds[kind].rawValue].record(UInt64(Double(s & (1 << 56 - 1)) * nsPerTick))
            }
            if got < UInt64(samples.count) { break }
        }
    }

    enum State: Equatable {
        case running
        /// How it ended when that was not exiting 0; nil when it was.
        case ended(String?)
    }

    /// Reaps or joins the task if it has ended (waiting for that if `wait`); its resource use is then in `usage`.
    mutating func state(wait: Bool) -> State {
        var status: Int32 = 0
        let err = vms_task_wait(task, wait ? 1 : 0, &status, &usage)
        if err == EAGAIN { return .running }
        // ECHILD: reaped before.
        guard err == 0 else { return .ended(nil) }
        switch vms_task_touch_failure(task) {
        case Int32(VMS_TOUCH_ACCESS): return .ended("a write to a page it mapped read-write got SIGSEGV (SEGV_ACCERR)")
        case Int32(VMS_TOUCH_NO_MAPPING): return .ended("a write to a page it mapped read-write got SIGSEGV or SIGBUS (no mapping)")
        default: break
        }
        let sig = vms_task_signal_of(status), code = vms_task_exit_code_of(status)
        if sig != 0 { return .ended("it was killed by signal \(sig) (\(String(cString: strsignal(sig))))") }
        return .ended(code == 0 ? nil : "it exited with status \(code)")
    }
}

private func nap(_ nanos: UInt64) { _ = Clock.sleep(until: Clock.nanos() + nanos, unless: { false }) }
