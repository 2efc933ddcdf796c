import CSupport
import Glibc
import Synchronization

/// A lock under the exclusion stress.
protocol LockUnderTest: AnyObject, Sendable {
    var sharesReaders: Bool { get }
    func readLock()
    func readUnlock()
    func writeLock()
    func writeUnlock()
    func destroy()
}

final class QRWLockUnderTest: LockUnderTest, @unchecked Sendable {
    let p = UnsafeMutablePointer<QRWLock>.allocate(capacity: 1)
    init() { p.initialize(to: QRWLock()) }
    let sharesReaders = true
    func readLock() { p.pointee.readLock() }
    func readUnlock() { p.pointee.readUnlock() }
    func writeLock() { p.pointee.writeLock() }
    func writeUnlock() { p.pointee.writeUnlock() }
    func destroy() { p.deallocate() }
}

final class RWLockUnderTest<L: ReaderWriterLock>: LockUnderTest, @unchecked Sendable {
    let lock: L
    init(_ lock: L) { self.lock = lock }
    let sharesReaders = true
    func readLock() { lock.readLock() }
    func readUnlock() { lock.readUnlock() }
    func writeLock() { lock.writeLock() }
    func writeUnlock() { lock.writeUnlock() }
    func destroy() { lock.destroy() }
}

final class SpinLockUnderTest: LockUnderTest, @unchecked Sendable {
    let p = UnsafeMutablePointer<SpinLock>.allocate(capacity: 1)
    init() { p.initialize(to: SpinLock()) }
    let sharesReaders = false
    func readLock() {}
    func readUnlock() {}
    func writeLock() { p.pointee.lock() }
    func writeUnlock() { p.pointee.unlock() }
    func destroy() { p.deallocate() }
}

/// Busted: test, linger, then set: two writers can both see the lock free.
final class TwoWritersLock: LockUnderTest, @unchecked Sendable {
    let word = UnsafeMutablePointer<Atomic<UInt32>>.allocate(capacity: 1)
    init() { word.initialize(to: Atomic(0)) }
    let sharesReaders = false
    func readLock() {}
    func readUnlock() {}
    func writeLock() {
        while word.pointee.load(ordering: .acquiring) != 0 { sched_yield() }
        for _ in 0..<100 { spinHint() }
        word.pointee.store(1, ordering: .relaxed)
    }
    func writeUnlock() { word.pointee.store(0, ordering: .releasing) }
    func destroy() { word.deallocate() }
}

/// Mutual exclusion: writers count themselves in and out of the write
/// section and must find no other writer and no reader there; readers must
/// find no writer.
enum ExclusionStress {
    static func run(_ lock: LockUnderTest, name: String, busted: Bool, writers: Int = 2, readers: Int = 2,
                    seconds: Double, stopOnFailure: Bool) -> ValidationResult {
        let words = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: 6)
        for i in 0..<6 { (words + i).initialize(to: Atomic(0)) }
        // 0 writers inside, 1 readers inside, 2 failures, 3 stop, 4 acquisitions, 5 writes
        let w = ExclusionWords(p: words)
        let clock = FailureClock()
        defer { words.deallocate() }
        @Sendable func fail() {
            w.p[2].wrappingAdd(1, ordering: .relaxed)
            clock.note()
            if stopOnFailure { w.p[3].store(1, ordering: .relaxed) }
        }
        let readerCount = lock.sharesReaders ? readers : 0
        var threads: [OSThread] = []
        for i in 0..<writers {
            if let t = try? OSThread.spawn(name: "excl-writer-\(i)", {
                while w.p[3].load(ordering: .relaxed) == 0 {
                    lock.writeLock()
                    let inside = w.p[0].wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
                    if inside != 1 || w.p[1].load(ordering: .sequentiallyConsistent) != 0 { fail() }
                    for _ in 0..<20 { spinHint() }
                    w.p[0].wrappingSubtract(1, ordering: .sequentiallyConsistent)
                    lock.writeUnlock()
                    w.p[4].wrappingAdd(1, ordering: .relaxed)
                    w.p[5].wrappingAdd(1, ordering: .relaxed)
                }
            }) { threads.append(t) }
        }
        for i in 0..<readerCount {
            if let t = try? OSThread.spawn(name: "excl-reader-\(i)", {
                while w.p[3].load(ordering: .relaxed) == 0 {
                    lock.readLock()
                    w.p[1].wrappingAdd(1, ordering: .sequentiallyConsistent)
                    if w.p[0].load(ordering: .sequentiallyConsistent) != 0 { fail() }
                    for _ in 0..<20 { spinHint() }
                    w.p[1].wrappingSubtract(1, ordering: .sequentiallyConsistent)
                    lock.readUnlock()
                    w.p[4].wrappingAdd(1, ordering: .relaxed)
                }
            }) { threads.append(t) }
        }
        _ = Clock.sleep(until: clock.start + UInt64(seconds * 1e9)) { w.p[3].load(ordering: .relaxed) != 0 || vms_stop_signal() != 0 }
        w.p[3].store(1, ordering: .relaxed)
        threads.forEach { $0.join() }
        lock.destroy()
        return ValidationResult(
            name: name, test: "exclusion", busted: busted, seconds: Double(Clock.nanos() - clock.start) / 1e9,
            operations: UInt64(w.p[4].load(ordering: .relaxed)), updates: UInt64(w.p[5].load(ordering: .relaxed)),
            failures: UInt64(w.p[2].load(ordering: .relaxed)), firstFailureSeconds: clock.firstSeconds, pipe: nil)
    }
}

struct ExclusionWords: @unchecked Sendable {
    let p: UnsafeMutablePointer<Atomic<Int>>
}
