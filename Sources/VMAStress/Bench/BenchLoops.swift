import CSupport
import Glibc
import Synchronization

/// The Swift twins of `bench/cloops`: the same loop shape (batches of 1024
/// until the stop flag, read relaxed, turns non-zero), the same operations.
public typealias StopFlag = UnsafeMutablePointer<Atomic<Int32>>

let benchBatch = 1024

@inline(__always)
func running(_ stop: StopFlag) -> Bool { stop.pointee.load(ordering: .relaxed) == 0 }

/// The loop shape every benchmark shares: batches of `benchBatch` calls of
/// `body` until the stop flag turns; returns the calls made. Inlined, so the
/// closure compiles into the loop as the C twin's macro does.
@inline(__always)
func batches(_ stop: StopFlag, _ body: () -> Void) -> UInt64 {
    var n: UInt64 = 0
    while running(stop) {
        for _ in 0..<benchBatch { body() }
        n &+= UInt64(benchBatch)
    }
    return n
}

/// The write-side shape: one call of `body` per count (grace periods take microseconds).
@inline(__always)
func calls(_ stop: StopFlag, _ body: () -> Void) -> UInt64 {
    var n: UInt64 = 0
    while running(stop) {
        body()
        n &+= 1
    }
    return n
}

@inline(never)
func swiftRCURead<F: RCUFlavor>(_: F.Type, _ stop: StopFlag, _ slot: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> UInt64 {
    F.registerThread()
    defer { F.unregisterThread() }
    return batches(stop) {
        F.readLock()
        let p = RCUPointer.dereference(slot)
        vms_blackhole(UInt64(UInt(bitPattern: p)))
        F.readUnlock()
    }
}

@inline(never)
func swiftRCUSync<F: RCUFlavor>(_: F.Type, _ stop: StopFlag) -> UInt64 {
    calls(stop) { F.synchronize() }
}

@inline(never)
func swiftSRCURead(_ srcu: SRCU, _ stop: StopFlag) -> UInt64 {
    guard let reader = srcu.registerReader() else { return 0 }
    defer { srcu.unregister(reader) }
    return batches(stop) {
        let idx = reader.lock()
        reader.unlock(idx)
    }
}

@inline(never)
func swiftSRCUSync(_ srcu: SRCU, _ stop: StopFlag) -> UInt64 {
    calls(stop) { srcu.synchronize() }
}

// Generic, specialised for each lock at its call site (the locks' calls are @inlinable).
@inline(never)
func swiftRWLockRead<L: ReaderWriterLock>(_ lock: L, _ stop: StopFlag) -> UInt64 {
    batches(stop) {
        lock.readLock()
        lock.readUnlock()
    }
}

@inline(never)
func swiftRWLockWrite<L: ReaderWriterLock>(_ lock: L, _ stop: StopFlag) -> UInt64 {
    batches(stop) {
        lock.writeLock()
        lock.writeUnlock()
    }
}

@inline(never)
func swiftQRWLockRead(_ lock: UnsafeMutablePointer<QRWLock>, _ stop: StopFlag) -> UInt64 {
    batches(stop) {
        lock.pointee.readLock()
        lock.pointee.readUnlock()
    }
}

@inline(never)
func swiftQRWLockWrite(_ lock: UnsafeMutablePointer<QRWLock>, _ stop: StopFlag) -> UInt64 {
    batches(stop) {
        lock.pointee.writeLock()
        lock.pointee.writeUnlock()
    }
}

@inline(never)
func swiftSpinLock(_ lock: UnsafeMutablePointer<SpinLock>, _ stop: StopFlag) -> UInt64 {
    batches(stop) {
        lock.pointee.lock()
        lock.pointee.unlock()
    }
}

@inline(never)
func swiftRefCount(_ count: UnsafeMutablePointer<RefCount>, _ stop: StopFlag) -> UInt64 {
    batches(stop) {
        count.pointee.get()
        _ = count.pointee.put()
    }
}

@inline(never)
func swiftSeqCountRead(_ pair: UnsafeMutablePointer<SeqPair>, _ stop: StopFlag) -> UInt64 {
    batches(stop) {
        var a: UInt64, b: UInt64, s: UInt32
        repeat {
            s = pair.pointee.lock.readBegin()
            a = pair.pointee.a.load(ordering: .relaxed)
            b = pair.pointee.b.load(ordering: .relaxed)
        } while pair.pointee.lock.readRetry(s)
        vms_blackhole(a &+ b)
    }
}

@inline(never)
func swiftSeqLockWrite(_ pair: UnsafeMutablePointer<SeqPair>, _ stop: StopFlag) -> UInt64 {
    var v: UInt64 = 0
    return batches(stop) {
        pair.pointee.lock.writeLock()
        v &+= 1
        pair.pointee.a.store(v, ordering: .relaxed)
        pair.pointee.b.store(v, ordering: .relaxed)
        pair.pointee.lock.writeUnlock()
    }
}
