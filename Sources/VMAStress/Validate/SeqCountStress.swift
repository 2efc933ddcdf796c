import CSupport
import Synchronization

/// Two words written together under a seqlock; readers must see them equal
/// (this stress's subject, and the seqcount benchmark's).
public struct SeqPair: ~Copyable {
    let lock = SeqLock()
    let a = Atomic<UInt64>(0)
    let b = Atomic<UInt64>(0)
}

/// Torn-read detection: a writer stores the same value into two words under
/// a seqlock, lingering between the stores; readers accept a pair only when
/// the sequence did not move. Any accepted pair whose words differ is a torn
/// read. The busted reader skips the retry check.
enum SeqCountStress {
    static func run(name: String, skipRetry: Bool, readers: Int = 2, seconds: Double,
                    stopOnFailure: Bool) -> ValidationResult {
        let pair = UnsafeMutablePointer<SeqPair>.allocate(capacity: 1)
        pair.initialize(to: SeqPair())
        let stop = UnsafeMutablePointer<Atomic<Bool>>.allocate(capacity: 1)
        stop.initialize(to: Atomic(false))
        let counts = UnsafeMutablePointer<Atomic<UInt64>>.allocate(capacity: 2)
        counts.initialize(to: Atomic(0))
        (counts + 1).initialize(to: Atomic(0))
        let clock = FailureClock()
        let shared = SeqShared(pair: pair, stop: stop, reads: counts, torn: counts + 1)
        defer {
            pair.deallocate()
            stop.deallocate()
            counts.deallocate()
        }
        let threads = (0..<readers).compactMap { i in
            try? OSThread.spawn(name: "seq-reader-\(i)") {
                var reads: UInt64 = 0
                while !shared.stop.pointee.load(ordering: .relaxed) {
                    var a: UInt64, b: UInt64, s: UInt32
                    repeat {
                        s = shared.pair.pointee.lock.readBegin()
                        a = shared.pair.pointee.a.load(ordering: .relaxed)
                        b = shared.pair.pointee.b.load(ordering: .relaxed)
                    } while !skipRetry && shared.pair.pointee.lock.readRetry(s)
                    reads += 1
                    if a != b {
                        shared.torn.pointee.wrappingAdd(1, ordering: .relaxed)
                        clock.note()
                        if stopOnFailure { shared.stop.pointee.store(true, ordering: .relaxed) }
                    }
                }
                shared.reads.pointee.wrappingAdd(reads, ordering: .relaxed)
            }
        }
        var writes: UInt64 = 0
        let deadline = Clock.nanos() + UInt64(seconds * 1e9)
        while !stop.pointee.load(ordering: .relaxed) && Clock.nanos() < deadline && vms_stop_signal() == 0 {
            pair.pointee.lock.writeLock()
            writes += 1
            pair.pointee.a.store(writes, ordering: .relaxed)
            for _ in 0..<50 { spinHint() }
            pair.pointee.b.store(writes, ordering: .relaxed)
            pair.pointee.lock.writeUnlock()
            for _ in 0..<50 { spinHint() }
        }
        stop.pointee.store(true, ordering: .relaxed)
        threads.forEach { $0.join() }
        return ValidationResult(
            name: name, test: "torn-read", busted: skipRetry, seconds: Double(Clock.nanos() - clock.start) / 1e9,
            operations: counts[0].load(ordering: .relaxed), updates: writes,
            failures: counts[1].load(ordering: .relaxed), firstFailureSeconds: clock.firstSeconds, pipe: nil)
    }
}

struct SeqShared: @unchecked Sendable {
    let pair: UnsafeMutablePointer<SeqPair>
    let stop: UnsafeMutablePointer<Atomic<Bool>>
    let reads: UnsafeMutablePointer<Atomic<UInt64>>
    let torn: UnsafeMutablePointer<Atomic<UInt64>>
}
