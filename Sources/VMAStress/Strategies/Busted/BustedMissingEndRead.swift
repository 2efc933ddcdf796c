/// per-vma-lock whose access-error exit falls back to mmap_lock without
/// vma_end_read: the VMA stays read-locked for ever, the next writer to
/// vma_start_write it waits for ever while holding mmap_lock, and every
/// fault that falls back queues behind it. A deadlock for the watchdog.
public struct BustedMissingEndRead<F: RCUFlavor>: BustedTwin {
    public static var info: StrategyInfo {
        PerVMALock<F>.info.twin(
            name: "busted-missing-end-read",
            summary: "per-vma-lock's access-error exit forgets vma_end_read (deadlocks: run it in a process of its own)",
            origin: "an error path returning without vma_end_read",
            breaks: .stall)
    }

    public let base: PerVMALock<F>
    public init(mm: MM) { base = PerVMALock(mm: mm) }

    @inline(__always)
    public func fault(_ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult {
        base.lockedFault(page, write: write, endReadOnAccessError: false, &ctx)
    }
}
