/// The invariant catalogue (DESIGN.md §3). The checker reports violations by
/// these ids; each busted strategy names the one it breaks.
public enum Invariant: String, CaseIterable, Codable, Sendable {
    case uaf = "UAF"
    case pipe = "PIPE"
    case stalePTE = "STALE-PTE"
    case torn = "TORN"
    case stable = "STABLE"
    case tree = "TREE"
    case ref = "REF"
    case leak = "LEAK"
    case stall = "STALL"
    case mapping = "MAPPING"

    public var meaning: String {
        switch self {
        case .uaf: return "no VMA memory is reclaimed while a reader still uses it"
        case .pipe: return "no reader sees a VMA more than one grace period after its removal"
        case .stalePTE: return "every present PTE is covered by a live VMA of its generation that allows its permission"
        case .torn: return "a fault acts only on VMA fields read under an even, unchanged seq"
        case .stable: return "faults in the stable region succeed; faults in the never-mapped guard fail"
        case .tree: return "the index is sorted, non-overlapping, counted right, each VMA attached exactly once"
        case .ref: return "at quiescence every attached VMA holds exactly the tree's reference; no underflow"
        case .leak: return "VMA allocations minus frees equal the VMAs in the index after the final barrier"
        case .stall: return "every worker makes progress"
        case .mapping: return "every page is mapped, with the protection, that the completed mmap, munmap, mprotect and mremap calls say"
        }
    }
}
