/// The invariant catalogue (DESIGN.md §3), one table: each id with what it
/// means, where the harness detects it and what a report of it carries. The
/// checker reports violations by these ids; each busted strategy names the
/// one it breaks.
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
    case reuse = "REUSE"

    public struct Entry: Sendable {
        /// The promise, as the first line of a report states it.
        public let meaning: String
        /// Where it is checked, and when.
        public let detectedBy: String
        /// What a report of it shows besides the thread, seed and reproducer.
        public let evidence: String
    }

    public var entry: Entry {
        switch self {
        case .uaf:
            return Entry(meaning: "no VMA memory is reclaimed while a reader still uses it",
                         detectedBy: "every lockless fault, inline: the record's liveness tag re-checked after use, and a tree walk that lands on freed (poisoned) memory",
                         evidence: "the VMA id and the tag found: poison (freed) or another record's (reused)")
        case .pipe:
            return Entry(meaning: "no reader sees a VMA more than one grace period after its removal",
                         detectedBy: "every lockless fault, inline: the grace periods ended since the VMA's removal, read while still using it (rcutorture's reader pipe)",
                         evidence: "the VMA id and the number of grace periods ended")
        case .stalePTE:
            return Entry(meaning: "every present PTE is covered by a live VMA of its generation that allows its permission",
                         detectedBy: "a fault that meets a PTE of another generation; the audit of the touched range after every mutation (--check full); mutations finding PTEs in a hole they map; every checkpoint's page-table audit",
                         evidence: "the page, the PTE (generation, permission) and the VMA covering it, if any")
        case .torn:
            return Entry(meaning: "a fault acts only on VMA fields read under an even, unchanged seq",
                         detectedBy: "every speculative fault, inline: the checksum of the fields it read, once the seqcount validated them",
                         evidence: "the VMA id")
        case .stable:
            return Entry(meaning: "faults in the stable region succeed; faults in the never-mapped guard fail",
                         detectedBy: "every fault in the stable region or the guard, and the region faulters' faults on pages they mapped themselves",
                         evidence: "the page and the fault's result")
        case .tree:
            return Entry(meaning: "the index is sorted, non-overlapping, counted right, each VMA attached exactly once",
                         detectedBy: "every checkpoint (workers parked) and the final audit: the list, the tree's own shape, and the two compared",
                         evidence: "the VMA or index entry and what was wrong with it")
        case .ref:
            return Entry(meaning: "at quiescence every attached VMA holds exactly the tree's reference; no underflow",
                         detectedBy: "every checkpoint and the final audit (reference counts), and writers recording a saturating counter's underflow",
                         evidence: "the VMA and its count, or the id of the VMA that underflowed")
        case .leak:
            return Entry(meaning: "VMA allocations minus frees equal the VMAs in the index after the final barrier; at quiescence every live mm has mm_count 1 and no exited mm is alive",
                         detectedBy: "every checkpoint and the final audit, after the strategy's barrier has run every deferred free; --mm-churn when the mm cache runs out",
                         evidence: "allocations, frees, VMAs in the index and frees still pending; the mm, its mm_count and whether it exited")
        case .stall:
            return Entry(meaning: "every worker makes progress",
                         detectedBy: "the watchdog thread (no progress within --stall-timeout), a checkpoint whose workers do not park, and the stop and final audit timing out",
                         evidence: "a dump of every thread: its operation, its fault-path step, and the mm writer's step")
        case .mapping:
            return Entry(meaning: "every page is mapped, with the protection, that the completed mmap, munmap, mprotect and mremap calls say",
                         detectedBy: "each mutator, after each call: the call's result and the touched range against a reference model of the address space",
                         evidence: "the call, the page, and the mapping expected and found")
        case .reuse:
            return Entry(meaning: "a reader acts only on a VMA of its own mm that covers its address",
                         detectedBy: "every lockless fault on a type-safe VMA cache (per-vma-refcount), inline, under the PTL where it acts: the record's owner mm, range, attachment and instance",
                         evidence: "the VMA id and what was wrong: another mm's, not covering the page, or detached")
        }
    }

    public var meaning: String { entry.meaning }
}
