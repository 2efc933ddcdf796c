/// spf-srcu, but an unlinked VMA is freed at once instead of through
/// call_srcu: a fault still inside srcu_read_lock uses freed memory.
public struct BustedFreeNoGracePeriod: BustedTwin {
    public static let info = SPFSRCU.info.twin(
        name: "busted-free-no-gp",
        summary: "spf-srcu freeing an unlinked VMA at once instead of after a grace period",
        origin: "the bug SRCU-deferred freeing exists to prevent (seed 001: \"what keeps the VMA alive\")",
        breaks: .uaf)

    public let base: SPFSRCU
    public init(mm: MM) { base = SPFSRCU(mm: mm) }

    public func vmaRetire(_ v: VMAPtr) { mm.put(v) }
}
