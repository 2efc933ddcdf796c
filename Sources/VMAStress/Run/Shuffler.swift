import CSupport
import Synchronization

/// rcutorture's shuffler: every `every` nanoseconds it moves all worker
/// threads off one CPU (in turn), then lets them use every CPU again, so
/// threads migrate and, crowded onto fewer CPUs, are preempted inside their
/// read sections and while holding locks.
final class Shuffler: @unchecked Sendable {
    private let threads: [OSThread]
    private let cpus: [Int]
    private let every: UInt64
    private let stopFlag = Atomic<Bool>(false)
    private(set) var moves = 0

    init(threads: [OSThread], cpus: [Int], everyNanos: UInt64) {
        self.threads = threads
        self.cpus = cpus
        every = everyNanos
    }

    func stop() { stopFlag.store(true, ordering: .relaxed) }

    /// Runs on its own thread until `stop`; leaves every thread on all CPUs.
    func run() {
        var round = 0
        while Clock.sleep(until: Clock.nanos() + every, unless: { stopFlag.load(ordering: .relaxed) }) {
            // Rounds 0..<n idle CPU `round`; round n gives every CPU back.
            let idle = round % (cpus.count + 1)
            apply(cpus.count > 1 && idle < cpus.count ? cpus.filter { $0 != cpus[idle] } : cpus)
            round += 1
            moves += 1
        }
        apply(cpus)
    }

    private func apply(_ set: [Int]) {
        var ids = set.map(Int32.init)
        for t in threads { _ = vms_set_thread_affinity(t.handle, &ids, Int32(ids.count)) }
    }
}
