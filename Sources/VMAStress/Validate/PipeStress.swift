import CSupport
import Glibc
import Synchronization

/// A read-side domain under the pipe stress: an RCU flavor or SRCU, or a busted twin of one.
protocol PipeDomain: Sendable {
    associatedtype Reader
    func readerStart() -> Reader
    func readerStop(_ r: Reader)
    func readLock(_ r: Reader) -> Int
    func readUnlock(_ r: Reader, _ idx: Int)
    /// Between read sections (QSBR announces a quiescent state).
    func quiescent(_ r: Reader)
    func synchronize()
}

struct RCUPipe<F: RCUFlavor>: PipeDomain {
    /// A synchronize that does not wait.
    let busted: Bool
    func readerStart() { F.registerThread() }
    func readerStop(_: Void) { F.unregisterThread() }
    @inline(__always) func readLock(_: Void) -> Int { F.readLock(); return 0 }
    @inline(__always) func readUnlock(_: Void, _: Int) { F.readUnlock() }
    @inline(__always) func quiescent(_: Void) { F.quiescentState() }
    func synchronize() { if !busted { F.synchronize() } }
}

struct SRCUPipe: PipeDomain {
    let srcu: SRCU
    /// Flips the index without waiting for readers to drain.
    let busted: Bool
    func readerStart() -> SRCUReader? { srcu.registerReader() }
    func readerStop(_ r: SRCUReader?) { if let r { srcu.unregister(r) } }
    @inline(__always) func readLock(_ r: SRCUReader?) -> Int { r!.lock() }
    @inline(__always) func readUnlock(_ r: SRCUReader?, _ idx: Int) { r!.unlock(idx) }
    func quiescent(_: SRCUReader?) {}
    func synchronize() { if busted { srcu.flip() } else { srcu.synchronize() } }
}

/// rcutorture's pipe test. A writer publishes a fresh element, marks the old
/// one removed (pipe count 1), waits for a grace period, and then adds one to
/// the pipe count of every removed element, recycling those that reach 10.
/// Readers, inside a read section, load the published element and (after
/// lingering now and then) read its pipe count: a count above 1 means a
/// grace period ended while the reader still held the element.
enum PipeStress {
    static let pipeLength: UInt64 = 10
    static let elements = 8192
    static let elementBytes = 64

    static func run<D: PipeDomain>(_ domain: D, name: String, busted: Bool, readers: Int = 2,
                                   seconds: Double, stopOnFailure: Bool) -> ValidationResult {
        let pool = UnsafeMutableRawPointer.allocate(byteCount: elements * elementBytes, alignment: 64)
        let pipes = (0..<elements).map { i -> UnsafeMutablePointer<Atomic<UInt64>> in
            let p = (pool + i * elementBytes).bindMemory(to: Atomic<UInt64>.self, capacity: 1)
            p.initialize(to: Atomic(pipeLength))
            return p
        }
        let published = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 1)
        pipes[0].pointee.store(0, ordering: .relaxed)
        published.initialize(to: UnsafeMutableRawPointer(pipes[0]))
        let stop = UnsafeMutablePointer<Atomic<Bool>>.allocate(capacity: 1)
        stop.initialize(to: Atomic(false))
        let clock = FailureClock()
        let shared = PipeShared(published: published, stop: stop, readers: readers)
        defer {
            published.deallocate()
            stop.deallocate()
            pool.deallocate()
        }

        let readerThreads = (0..<readers).compactMap { i in
            try? OSThread.spawn(name: "pipe-reader-\(i)") {
                pipeReader(domain, shared, index: i, clock: clock, stopOnFailure: stopOnFailure)
            }
        }
        // The writer runs here.
        var free = Array(1..<elements)
        var freeHead = 0
        var retired: [Int] = []
        var current = 0
        var updates: UInt64 = 0
        let deadline = Clock.nanos() + UInt64(seconds * 1e9)
        while !stop.pointee.load(ordering: .relaxed) && Clock.nanos() < deadline && vms_stop_signal() == 0 {
            let next = free[freeHead]
            freeHead += 1
            if freeHead > 4096 {
                free.removeFirst(freeHead)
                freeHead = 0
            }
            pipes[next].pointee.store(0, ordering: .relaxed)
            _ = RCUPointer.exchange(published, UnsafeMutableRawPointer(pipes[next]))
            pipes[current].pointee.store(1, ordering: .relaxed)
            retired.append(current)
            current = next
            domain.synchronize()
            updates += 1
            retired.removeAll { i in
                let n = pipes[i].pointee.wrappingAdd(1, ordering: .relaxed).newValue
                if n >= pipeLength { free.append(i) }
                return n >= pipeLength
            }
        }
        stop.pointee.store(true, ordering: .relaxed)
        readerThreads.forEach { $0.join() }

        var histogram = [UInt64](repeating: 0, count: Int(pipeLength) + 1)
        for i in 0..<readers {
            for b in 0...Int(pipeLength) { histogram[b] += shared.histogram(i)[b] }
        }
        shared.destroy()
        let failures = histogram.dropFirst(2).reduce(0, +)
        return ValidationResult(
            name: name, test: "pipe", busted: busted, seconds: Double(Clock.nanos() - clock.start) / 1e9,
            operations: histogram.reduce(0, +), updates: updates, failures: failures,
            firstFailureSeconds: clock.firstSeconds, pipe: histogram)
    }
}

struct PipeShared: @unchecked Sendable {
    let published: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    let stop: UnsafeMutablePointer<Atomic<Bool>>
    let histograms: UnsafeMutablePointer<UInt64>

    init(published: UnsafeMutablePointer<UnsafeMutableRawPointer?>, stop: UnsafeMutablePointer<Atomic<Bool>>, readers: Int) {
        self.published = published
        self.stop = stop
        let n = readers * (Int(PipeStress.pipeLength) + 1)
        histograms = .allocate(capacity: n)
        histograms.initialize(repeating: 0, count: n)
    }

    func histogram(_ reader: Int) -> UnsafeMutablePointer<UInt64> {
        histograms + reader * (Int(PipeStress.pipeLength) + 1)
    }

    func destroy() { histograms.deallocate() }
}

private func pipeReader<D: PipeDomain>(_ domain: D, _ shared: PipeShared, index: Int, clock: FailureClock,
                                       stopOnFailure: Bool) {
    let reader = domain.readerStart()
    defer { domain.readerStop(reader) }
    let hist = shared.histogram(index)
    var rng = RNG(seed: UInt64(index) &+ 77)
    while !shared.stop.pointee.load(ordering: .relaxed) {
        let idx = domain.readLock(reader)
        let element = RCUPointer.dereference(shared.published)!.assumingMemoryBound(to: Atomic<UInt64>.self)
        // Linger now and then, so grace periods overlap read sections.
        let dice = rng.below(256)
        let spins = dice == 0 ? 20_000 : dice < 32 ? Int(rng.below(200)) : 0
        for _ in 0..<spins { spinHint() }
        let count = element.pointee.load(ordering: .relaxed)
        domain.readUnlock(reader, idx)
        domain.quiescent(reader)
        hist[Int(min(count, PipeStress.pipeLength))] &+= 1
        if count > 1 {
            clock.note()
            if stopOnFailure { shared.stop.pointee.store(true, ordering: .relaxed) }
        }
    }
}
