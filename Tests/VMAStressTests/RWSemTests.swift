import Glibc
import Synchronization
import Testing
@testable import VMAStress

/// The kernel rwsem model's slow paths, each driven on purpose with real threads: what the
/// fast-path test in PrimitiveTests cannot reach.
/// Words the test threads share.
private final class Shared: Sendable {
    let a = Atomic<Int>(0)
    let b = Atomic<Int>(0)
}

@Suite("Kernel rwsem")
struct RWSemTests {
    /// Polls until `done()` or 5 s pass (a hang fails the test instead of blocking it).
    private func eventually(_ done: () -> Bool) -> Bool {
        let deadline = Clock.nanos() + 5_000_000_000
        while !done() {
            if Clock.nanos() > deadline { return false }
            usleep(200)
        }
        return true
    }

    @Test func aWriterQueuedBehindAReaderSleepsAndGetsInWhenTheReaderLeaves() throws {
        let lock = RWSem()
        defer { lock.destroy() }
        let inside = Shared()
        lock.readLock()
        let writer = try OSThread.spawn(name: "writer") {
            lock.writeLock()
            inside.a.store(1, ordering: .releasing)
            lock.writeUnlock()
        }
        // The writer spins on the reader for at most 25 µs, then queues and sleeps.
        #expect(eventually { lock.events.writeSleep >= 1 })
        #expect(inside.a.load(ordering: .acquiring) == 0)
        lock.readUnlock()
        #expect(eventually { inside.a.load(ordering: .acquiring) == 1 })
        writer.join()
        #expect(lock.tryWriteLock())
        lock.writeUnlock()
    }

    @Test func readersQueuedBehindAWriterAreGrantedTogether() throws {
        let lock = RWSem()
        defer { lock.destroy() }
        let holding = Shared()
        lock.writeLock()
        let readers = try (0..<2).map { _ in
            try OSThread.spawn(name: "reader") {
                lock.readLock()
                holding.a.add(1, ordering: .sequentiallyConsistent)
                // Both readers inside at once: the second is not waiting for the first.
                while holding.a.load(ordering: .acquiring) < 2, holding.b.load(ordering: .acquiring) == 0 {
                    usleep(100)
                }
                lock.readUnlock()
            }
        }
        #expect(eventually { lock.events.readSleep >= 2 })
        #expect(holding.a.load(ordering: .acquiring) == 0)
        lock.writeUnlock()
        let together = eventually { holding.a.load(ordering: .acquiring) == 2 }
        holding.b.store(1, ordering: .releasing)
        for r in readers { r.join() }
        #expect(together)
        #expect(lock.tryWriteLock())
        lock.writeUnlock()
    }

    /// Readers that keep the lock busy cannot hold a writer off for ever: readers queue once
    /// other readers own the lock and a writer waits, and after 4 ms the writer's handoff bit
    /// stops stealing altogether.
    @Test func readersThatKeepTheLockBusyDoNotStarveAWriter() throws {
        let lock = RWSem()
        defer { lock.destroy() }
        let stop = Shared()
        let readers = try (0..<2).map { _ in
            try OSThread.spawn(name: "reader") {
                while stop.a.load(ordering: .relaxed) == 0 {
                    lock.readLock()
                    usleep(50)
                    lock.readUnlock()
                }
            }
        }
        var writes = 0
        let deadline = Clock.nanos() + 2_000_000_000
        while writes < 20, Clock.nanos() < deadline {
            lock.writeLock()
            writes += 1
            lock.writeUnlock()
        }
        stop.a.store(1, ordering: .relaxed)
        for r in readers { r.join() }
        #expect(writes == 20)
    }
}
