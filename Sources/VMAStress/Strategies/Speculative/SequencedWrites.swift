/// The write side every SPF strategy shares: the VMA's seqcount is odd
/// around every change to its fields, its PTEs or its tree membership
/// (vm_write_begin / vm_write_end). Sections nest (mremap holds the source
/// while it splits or links), and only the outermost moves the count.
public protocol SequencedVMAWrites: WriteSide {}

extension SequencedVMAWrites {
    public func mmWriteLock() { mm.mmapLock.writeLock() }
    public func mmWriteUnlock() { mm.mmapWriteUnlock() }

    public func vmaWriteBegin(_ v: VMAPtr) {
        // writeDepth is the writers' alone (mm write lock held): relaxed.
        if v.pointee.writeDepth.wrappingAdd(1, ordering: .relaxed).oldValue == 0 { v.pointee.seq.writeBegin() }
    }

    public func vmaWriteEnd(_ v: VMAPtr) {
        if v.pointee.writeDepth.wrappingSubtract(1, ordering: .relaxed).newValue == 0 { v.pointee.seq.writeEnd() }
    }
}

/// The SPF strategies whose lookups are lockless: the mm seqlock is odd
/// around every tree insert, erase and re-key, and readers retry while it moves.
public protocol SeqlockedTreeWrites: SequencedVMAWrites {}

extension SeqlockedTreeWrites {
    public func treeWriteBegin() { mm.seqWriteBegin() }
    public func treeWriteEnd() { mm.seqWriteEnd() }
}

/// Strategies whose readers use liburcu flavor `Flavor`: every worker
/// registers; under QSBR it announces quiescent states between operations
/// and goes offline while parked.
public protocol RCUReaders: Strategy {
    associatedtype Flavor: RCUFlavor
}

extension RCUReaders {
    public func threadStart(_ ctx: inout FaultContext) {
        Flavor.registerThread()
        if Flavor.kind == .qsbr {
            ctx.blockBegin = { QSBRRCU.threadOffline() }
            ctx.blockEnd = { QSBRRCU.threadOnline() }
        }
        ctx.gracePeriodWait = Flavor.kind.readerBarrier
    }
    public func threadStop(_ ctx: inout FaultContext) { Flavor.unregisterThread() }
    @inline(__always) public func quiescentState() { if Flavor.kind == .qsbr { Flavor.quiescentState() } }
    public func threadOffline() { if Flavor.kind == .qsbr { Flavor.threadOffline() } }
    public func threadOnline() { if Flavor.kind == .qsbr { Flavor.threadOnline() } }
}
