import CSupport
import Glibc
import Synchronization

/// The Swift twins of `bench/cloops`: the same loop shape (batches of 1024
/// until the stop flag, read relaxed, turns non-zero), the same operations.
public typealias StopFlag = UnsafeMutablePointer<Atomic<Int32>>

let benchBatch = 1024

@inline(__always)
func running(_ stop: StopFlag) -> Bool { stop.pointee.load(ordering: .relaxed) == 0 }

@inline(never)
func swiftRCURead<F: RCUFlavor>(_: F.Type, _ stop: StopFlag, _ slot: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> UInt64 {
    F.registerThread()
    defer { F.unregisterThread() }
    var n: UInt64 = 0
    while running(stop) {
        for _ in 0..<benchBatch {
            F.readLock()
            let p = RCUPointer.dereference(slot)
            vms_blackhole(UInt64(UInt(bitPattern: p)))
            F.readUnlock()
        }
        n &+= UInt64(benchBatch)
    }
    return n
}

@inline(never)
func swiftRCUSync<F: RCUFlavor>(_: F.Type, _ stop: StopFlag) -> UInt64 {
    var n: UInt64 = 0
    while running(stop) {
        F.synchronize()
        n &+= 1
    }
    return n
}

@inline(never)
func swiftSRCURead(_ srcu: SRCU, _ stop: StopFlag) -> UInt64 {
    guard let reader = srcu.registerReader() else { return 0 }
    defer { srcu.unregister(reader) }
    var n: UInt64 = 0
    while running(stop) {
        for _ in 0..<benchBatch {
            let idx = reader.lock()
            reader.unlock(idx)
        }
        n &+= UInt64(benchBatch)
    }
    return n
}

@inline(never)
func swiftSRCUSync(_ srcu: SRCU, _ stop: StopFlag) -> UInt64 {
    var n: UInt64 = 0
    while running(stop) {
        srcu.synchronize()
        n &+= 1
    }
    return n
}

@inline(never)
func swiftRWSemRead(_ lock: RWSem, _ stop: StopFlag) -> UInt64 {
    var n: UInt64 = 0
    while running(stop) {
        for _ in 0..<benchBatch {
            lock.readLock()
            lock.readUnlock()
        }
        n &+= UInt64(benchBatch)
    }
    return n
}

@inline(never)
func swiftRWSemWrite(_ lock: RWSem, _ stop: StopFlag) -> UInt64 {
    var n: UInt64 = 0
    while running(stop) {
        for _ in 0..<benchBatch {
            lock.writeLock()
            lock.writeUnlock()
        }
        n &+= UInt64(benchBatch)
    }
    return n
}

@inline(never)
func swiftQRWLockRead(_ lock: UnsafeMutablePointer<QRWLock>, _ stop: StopFlag) -> UInt64 {
    var n: UInt64 = 0
    while running(stop) {
        for _ in 0..<benchBatch {
            lock.pointee.readLock()
            lock.pointee.readUnlock()
        }
        n &+= UInt64(benchBatch)
    }
    return n
}

@inline(never)
func swiftQRWLockWrite(_ lock: UnsafeMutablePointer<QRWLock>, _ stop: StopFlag) -> UInt64 {
    var n: UInt64 = 0
    while running(stop) {
        for _ in 0..<benchBatch {
            lock.pointee.writeLock()
            lock.pointee.writeUnlock()
        }
        n &+= UInt64(benchBatch)
    }
    return n
}

@inline(never)
func swiftSpinLock(_ lock: UnsafeMutablePointer<SpinLock>, _ stop: StopFlag) -> UInt64 {
    var n: UInt64 = 0
    while running(stop) {
        for _ in 0..<benchBatch {
            lock.pointee.lock()
            lock.pointee.unlock()
        }
        n &+= UInt64(benchBatch)
    }
    return n
}

@inline(never)
func swiftRefCount(_ count: UnsafeMutablePointer<RefCount>, _ stop: StopFlag) -> UInt64 {
    var n: UInt64 = 0
    while running(stop) {
        for _ in 0..<benchBatch {
            count.pointee.get()
            _ = count.pointee.put()
        }
        n &+= UInt64(benchBatch)
    }
    return n
}

/// Two words written together under a seqlock; readers must see them equal.
public struct SeqPair: ~Copyable {
    let lock = SeqLock()
    let a = Atomic<UInt64>(0)
    let b = Atomic<UInt64>(0)
}

@inline(never)
func swiftSeqCountRead(_ pair: UnsafeMutablePointer<SeqPair>, _ stop: StopFlag) -> UInt64 {
    var n: UInt64 = 0
    while running(stop) {
        for _ in 0..<benchBatch {
            var a: UInt64, b: UInt64, s: UInt32
            repeat {
                s = pair.pointee.lock.readBegin()
                a = pair.pointee.a.load(ordering: .relaxed)
                b = pair.pointee.b.load(ordering: .relaxed)
            } while pair.pointee.lock.readRetry(s)
            vms_blackhole(a &+ b)
        }
        n &+= UInt64(benchBatch)
    }
    return n
}

@inline(never)
func swiftSeqLockWrite(_ pair: UnsafeMutablePointer<SeqPair>, _ stop: StopFlag) -> UInt64 {
    var n: UInt64 = 0
    var v: UInt64 = 0
    while running(stop) {
        for _ in 0..<benchBatch {
            pair.pointee.lock.writeLock()
            v &+= 1
            pair.pointee.a.store(v, ordering: .relaxed)
            pair.pointee.b.store(v, ordering: .relaxed)
            pair.pointee.lock.writeUnlock()
        }
        n &+= UInt64(benchBatch)
    }
    return n
}
