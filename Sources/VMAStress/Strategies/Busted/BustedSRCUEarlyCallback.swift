/// spf-srcu on an SRCU domain whose callbacks run before the grace period
/// they were queued for: readers see VMAs that went round the reader pipe.
public struct BustedSRCUEarlyCallback: BustedTwin {
    public static let info = SPFSRCU.info.twin(
        name: "busted-srcu-early-callback",
        summary: "spf-srcu with call_srcu callbacks run before their grace period ends",
        origin: "an SRCU callback-invocation ordering bug (rcutorture's busted flavors)",
        breaks: .pipe)

    public let base: SPFSRCU
    public init(mm: MM) { base = SPFSRCU(mm: mm, srcu: SRCU(callbacksBeforeGracePeriod: true)) }
}
