import Synchronization

/// A sequence counter (the kernel's `seqcount_t`): odd while a writer is
/// inside its write section. Writers must be serialised by another lock.
public struct SeqCount: ~Copyable {
    private let seq = Atomic<UInt32>(0)

    public init() {}

    /// write_seqcount_begin: seq++ then a release fence, so the increment is
    /// visible before any of the section's field stores.
    @inline(__always)
    public func writeBegin() {
        seq.wrappingAdd(1, ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
    }

    /// write_seqcount_end: a release fence, then seq++, so every field store
    /// is visible before the count turns even.
    @inline(__always)
    public func writeEnd() {
        atomicMemoryFence(ordering: .releasing)
        seq.wrappingAdd(1, ordering: .relaxed)
    }

    /// read_seqcount_begin: waits for an even count.
    @inline(__always)
    public func readBegin() -> UInt32 {
        while true {
            let s = seq.load(ordering: .acquiring)
            if s & 1 == 0 { return s }
            spinHint()
        }
    }

    /// raw_read_seqcount, the speculative-fault form: the caller aborts on odd.
    @inline(__always)
    public func readRaw() -> UInt32 {
        seq.load(ordering: .acquiring)
    }

    /// read_seqcount_retry: an acquire fence orders the section's field loads
    /// before the re-read of the count.
    @inline(__always)
    public func readRetry(_ start: UInt32) -> Bool {
        atomicMemoryFence(ordering: .acquiring)
        return seq.load(ordering: .relaxed) != start
    }

    public var current: UInt32 { seq.load(ordering: .relaxed) }
}
