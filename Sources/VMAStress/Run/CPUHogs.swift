import Synchronization

/// `--hogs N`: threads that only burn CPU beside the workers, at normal
/// priority, so the scheduler preempts workers inside their read sections
/// and write windows, as on a machine busy with other work.
final class CPUHogs: @unchecked Sendable {
    private let stopFlag = Atomic<Bool>(false)
    private var threads: [OSThread] = []
    /// Iterations spun, summed over the hogs (proof they ran).
    private let spins = Atomic<UInt64>(0)

    init(count: Int) throws {
        for i in 0..<count {
            threads.append(try OSThread.spawn(name: "hog-\(i)") { [self] in spin() })
        }
    }

    private func spin() {
        var n: UInt64 = 0
        var x: UInt64 = 0x9E37_79B9
        while !stopFlag.load(ordering: .relaxed) {
            for _ in 0..<4096 { x = x &* 6364136223846793005 &+ 1442695040888963407 }
            n &+= 4096
        }
        spins.wrappingAdd(n | (x & 1), ordering: .relaxed)
    }

    /// Stops and joins every hog; returns the iterations they spun.
    func stop() -> UInt64 {
        stopFlag.store(true, ordering: .relaxed)
        threads.forEach { $0.join() }
        threads = []
        return spins.load(ordering: .relaxed)
    }
}
