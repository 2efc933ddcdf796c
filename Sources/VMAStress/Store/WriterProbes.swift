import Synchronization

/// The mm writer as the rest of the harness watches it: the range the
/// current mutation works on (faulters aim some faults there, where the
/// races are), where the writer is (for the stall dump), and the write
/// side's delay points (`WritePoint`, on under `--check full`). Aids, not
/// protocol: every access is relaxed. A handle: copies share the state.
public struct WriterProbes: @unchecked Sendable {
    struct State: ~Copyable {
        /// start << 32 | pages.
        let hotRange = Atomic<UInt64>(0)
        /// A `WriterStep` in the low byte, a VMA id above.
        let step = Atomic<UInt64>(0)
    }

    let state: UnsafeMutablePointer<State>
    /// locktorture's long write-side holds.
    public let delays: WriteDelays

    init() {
        // A cache line of its own: faulters read the announced range on every
        // churn fault; nothing else they read should move with it.
        precondition(MemoryLayout<State>.size <= 128)
        state = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 128).bindMemory(to: State.self, capacity: 1)
        state.initialize(to: State())
        delays = WriteDelays()
    }

    func destroy() {
        delays.destroy()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// A mutation announces the range it works on.
    @inline(__always)
    public func announce(_ r: PageRange) {
        state.pointee.hotRange.store(r.start << 32 | min(r.count, 0xFFFF_FFFF), ordering: .relaxed)
    }

    /// Forgets the announced range (after the set-up, before the workers start).
    public func clearAnnouncement() { state.pointee.hotRange.store(0, ordering: .relaxed) }

    /// The last announced range, if any.
    @inline(__always)
    public var hotRange: PageRange? {
        let w = state.pointee.hotRange.load(ordering: .relaxed)
        return w == 0 ? nil : PageRange(start: w >> 32, count: w & 0xFFFF_FFFF)
    }

    /// A writer passing `point` stalls there now and then, so readers meet the half-done state.
    @inline(__always)
    public func delay(_ point: WritePoint) { delays.pass(point) }

    public func setStep(_ step: WriterStep, vma id: UInt64 = 0) {
        state.pointee.step.store(id << 8 | UInt64(step.rawValue), ordering: .relaxed)
    }

    public var step: (step: WriterStep, vmaID: UInt64) {
        let w = state.pointee.step.load(ordering: .relaxed)
        return (WriterStep(rawValue: UInt8(w & 0xFF)) ?? .idle, w >> 8)
    }
}

/// The mm writer's step, as the stall dump shows it.
public enum WriterStep: UInt8, Sendable {
    case idle, waitingForMMapLock, holdingMMapLock, waitingForVMAReaders

    public func describe(vma id: UInt64) -> String {
        switch self {
        case .idle: return "no writer inside"
        case .waitingForMMapLock: return "a writer waits for mmap_lock (write)"
        case .holdingMMapLock: return "a writer holds mmap_lock (write)"
        case .waitingForVMAReaders: return "a writer holds mmap_lock (write) and waits in vma_start_write for the readers of VMA id \(id)"
        }
    }
}
