/// spf-srcu whose writers change a VMA outside its seqcount write section:
/// a speculative fault validates fields that a writer is halfway through
/// changing, and acts on a torn view.
public struct BustedUnsequencedWrite: BustedTwin {
    public static let info = SPFSRCU.info.twin(
        name: "busted-unsequenced-write",
        summary: "spf-srcu changing VMA fields without vm_write_begin/vm_write_end",
        origin: "a VMA update site the SPF series had not yet wrapped in the VMA sequence count",
        breaks: .torn)

    public let base: SPFSRCU
    public init(mm: MM) { base = SPFSRCU(mm: mm) }

    public func vmaWriteBegin(_ v: VMAPtr) {}
    public func vmaWriteEnd(_ v: VMAPtr) {}
}
