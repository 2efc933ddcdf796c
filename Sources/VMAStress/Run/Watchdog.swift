import CSupport
import Synchronization

/// The stall watchdog, on a thread of its own: nothing it waits for can
/// hold it up. Every tick it checks that each worker's progress count
/// moved within the stall timeout, and that the checker is not stuck inside
/// a checkpoint (parking, a grace period that never ends, an audit looping
/// on a corrupt tree). A stall is reported once, with the thread dump, and
/// the run ends. A SIGQUIT prints the same dump to stderr and the run goes on.
public final class Watchdog: @unchecked Sendable {
    let checker: Checker
    let workers: [WorkerStats]
    let log: ViolationLog
    let stallTimeout: UInt64
    private let stopFlag = Atomic<Bool>(false)
    /// SIGQUITs answered with a thread dump during this run.
    public private(set) var quitDumps = 0

    public init(checker: Checker) {
        self.checker = checker
        workers = checker.workers
        log = checker.log
        stallTimeout = checker.stallTimeout
    }

    public func stop() { stopFlag.store(true, ordering: .relaxed) }

    /// A checkpoint may take the checker's own park timeout, a stutter's
    /// hold, and half a timeout more for the barrier and the audits; past
    /// that (under twice the stall timeout plus the hold) it is stuck.
    var checkerAllowance: UInt64 { stallTimeout + checker.stutterHold + stallTimeout / 2 }

    public func run() {
        // At most 250 ms, so a SIGQUIT is answered at once.
        let tick = min(max(stallTimeout / 4, 10_000_000), 250_000_000)
        var quitsSeen = vms_quit_requests()
        var seen = workers.map { $0.progress.pointee.load(ordering: .relaxed) }
        var movedAt = [UInt64](repeating: Clock.nanos(), count: workers.count)
        var checkpointsSeen = checker.checkpointsEnded
        while Clock.sleep(until: Clock.nanos() + tick, unless: { stopFlag.load(ordering: .relaxed) }) {
            if checker.didStall { return }
            let quits = vms_quit_requests()
            if quits != quitsSeen {
                quitsSeen = quits
                quitDumps += 1
                Console.error("--- SIGQUIT: thread dump (the run goes on):\n            " + checker.threadDump())
            }
            let now = Clock.nanos()
            let busySince = checker.busySince
            if busySince != 0 {
                // Workers are parked on the checker's word: the checker is the one that must move.
                if now > busySince && now - busySince > checkerAllowance {
                    stall(Finding(.stall, expected: "a checkpoint (park, barrier, audits) ends within \(seconds(checkerAllowance)) s",
                                  seen: "the checker has been in one for \(seconds(now - busySince)) s, \(checker.phase); threads:\n            "
                                      + checker.threadDump()))
                    return
                }
                continue
            }
            // Time parked at a checkpoint is not a stall.
            let ended = checker.checkpointsEnded
            if ended != checkpointsSeen {
                checkpointsSeen = ended
                movedAt = movedAt.map { _ in now }
                seen = workers.map { $0.progress.pointee.load(ordering: .relaxed) }
                checker.oldestProgress.store(now, ordering: .relaxed)
                continue
            }
            for (i, w) in workers.enumerated() {
                let p = w.progress.pointee.load(ordering: .relaxed)
                if p != seen[i] {
                    seen[i] = p
                    movedAt[i] = now
                } else if now - movedAt[i] > stallTimeout {
                    stall(checker.stallFinding(stuck: w, for: now - movedAt[i]))
                    return
                }
            }
            checker.oldestProgress.store(movedAt.min() ?? now, ordering: .relaxed)
        }
    }

    private func stall(_ f: Finding) {
        checker.markStalled()
        log.report(f, thread: "watchdog")
    }

    private func seconds(_ n: UInt64) -> String { String(format: "%.1f", Double(n) / 1e9) }
}
