/// per-vma-lock whose access-error exit falls back to mmap_lock without
/// vma_end_read: the VMA stays read-locked for ever, the next writer to
/// vma_start_write it waits for ever while holding mmap_lock, and every
/// fault that falls back queues behind it. A deadlock for the watchdog.
public struct BustedMissingEndRead<F: RCUFlavor>: BustedLocklessTwin {
    public static var info: StrategyInfo {
        PerVMALock<F>.info.twin(
            name: "busted-missing-end-read",
            summary: "per-vma-lock's access-error exit forgets vma_end_read (deadlocks: run it in a process of its own)",
            origin: "an error path returning without vma_end_read",
            breaks: .stall)
    }

    public let base: PerVMALock<F>
    public init(mm: MM) { base = PerVMALock(mm: mm) }

    /// The broken step: vma_end_read only on success. The one abort after
    /// the pin is the access error.
    @inline(__always) public func unpin(_ v: VMAPtr, aborted: Bool) { if !aborted { base.unpin(v, aborted: false) } }
}
