import CSupport
import Glibc

/// `--processes`: a kernel-backend faulter runs its workload in a process of
/// its own, forked from this thread (will-it-scale's processes mode: no
/// shared mm, so no mmap_lock or VMA tree shared between workers). The child
/// loops in C on its own address space (`vms_task_start`); this thread is
/// its proxy in the run: it pauses the child over checkpoints (SIGSTOP),
/// moves the child's counters and sampled latencies into its WorkerStats
/// every couple of milliseconds, and takes the child's resource use for the
/// measured window. A child that dies before it is told to stop is reported
/// (STABLE: its touches of memory it mapped read-write killed it).
func processLoop<S: Strategy>(_ s: S, _ w: WorkerStats, _ env: WorkerEnv) {
    let shape = env.workload.spec.regions!
    let file = env.files[w.index]
    let kind = shape.heap ? Int32(VMS_TASK_BRK) : Int32(VMS_TASK_CHUNKS)
    var gate = WorkerGate()
    guard let task = vms_task_create(kind, (shape.chunkPages ?? 1) * 4096, shape.touch ? 1 : 0, file.fd,
                                     file.shared ? 1 : 0, env.sampleMask) else {
        return failed("cannot map the shared page for its worker process: \(String(cString: strerror(errno)))")
    }
    defer { vms_task_destroy(task) }
    let pid = vms_task_start(task)
    guard pid > 0 else { return failed("fork failed: \(String(cString: strerror(-pid)))") }

    var proxy = TaskProxy(task: task, w: w, nsPerTick: env.nsPerTick)
    var running = true, measuring = false, n: UInt64 = 0
    while true {
        // Anything the run asks (a checkpoint, measuring, stop) is handled with the child stopped.
        let asked = env.control.epoch != gate.handledEpoch
        if asked && running { _ = vms_task_pause(task, 1) }
        if gate.shouldStop(s, w, env.control) { break }
        if asked && running { _ = vms_task_pause(task, 0) }
        if gate.measuring && !measuring {
            measuring = true
            proxy.pull()
            w.beginMeasuring()
            if running { _ = vms_task_snapshot(task, &w.usageStart, 1_000_000_000) }
        }
        proxy.pull()
        if running, case let .ended(how) = proxy.state(wait: false) {
            running = false
            env.log.report(Finding(.stable, expected: "\(w.name)'s worker process (pid \(pid)) runs until it is told to stop",
                                   seen: how ?? "it exited"), thread: w.name)
        }
        nap(2_000_000)
        n &+= 1
        w.progress.pointee.store(n, ordering: .relaxed)
    }
    if running {
        vms_task_stop(task)
        _ = vms_task_pause(task, 0)
        // It stops within a page touch or a system call: one still running after the stall timeout is killed.
        let deadline = Clock.nanos() + env.stallNanos
        while case .running = proxy.state(wait: false), Clock.nanos() < deadline {
            nap(1_000_000)
        }
        if case .running = proxy.state(wait: false) {
            env.log.report(Finding(.stall, expected: "\(w.name)'s worker process (pid \(pid)) stops when told to",
                                   seen: "it was still running \(env.stallNanos / 1_000_000) ms later; killed"), thread: w.name)
            kill(pid, SIGKILL)
            _ = proxy.state(wait: true)
        }
    }
    proxy.pull()
    gate.finish(w)
    if measuring { w.usageEnd = proxy.usage }

    func failed(_ why: String) {
        env.log.report(Finding(.stall, expected: "\(w.name) starts its worker process", seen: why), thread: w.name)
        while !gate.shouldStop(s, w, env.control) { nap(2_000_000) }
        gate.finish(w)
    }
}

/// The parent's side of one worker process: its counters and samples so far.
struct TaskProxy {
    let task: OpaquePointer
    let w: WorkerStats
    let nsPerTick: Double
    var seen = [UInt64](repeating: 0, count: Int(VMS_TASK_COUNTERS))
    var now = [UInt64](repeating: 0, count: Int(VMS_TASK_COUNTERS))
    var tail: UInt64 = 0
    var samples = [UInt64](repeating: 0, count: 4096)
    /// The child's resource use when it exited.
    var usage = rusage()

    init(task: OpaquePointer, w: WorkerStats, nsPerTick: Double) {
        self.task = task
        self.w = w
        self.nsPerTick = nsPerTick
    }

    /// Adds what the child did since the last pull to this worker's counters and histograms.
    mutating func pull() {
        now.withUnsafeMutableBufferPointer { vms_task_counters(task, $0.baseAddress) }
        // A touch that returns is `present`, as in the threads mode.
        let into: [(Int, Int)] = [(0, WorkerStats.doneBase + OpKind.fault.rawValue),
                                  (0, WorkerStats.outcomeBase + FaultResult.Kind.present.rawValue),
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

    /// Reaps the child if it has ended (waiting for that if `wait`); its resource use is then in `usage`.
    mutating func state(wait: Bool) -> State {
        var status: Int32 = 0
        let err = vms_task_wait(task, wait ? 1 : 0, &status, &usage)
        if err == EAGAIN { return .running }
        // ECHILD: reaped before.
        guard err == 0 else { return .ended(nil) }
        let sig = vms_task_signal_of(status), code = vms_task_exit_code_of(status)
        if sig != 0 { return .ended("it was killed by signal \(sig) (\(String(cString: strsignal(sig))))") }
        return .ended(code == 0 ? nil : "it exited with status \(code)")
    }
}

private func nap(_ nanos: UInt64) { _ = Clock.sleep(until: Clock.nanos() + nanos, unless: { false }) }
