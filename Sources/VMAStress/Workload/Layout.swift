/// The address space a run works in, lowest first:
/// the stable region (mapped read-write before the run, never changed),
/// the guard (never mapped), and the churn region (where mutators work).
public struct Layout: Sendable, Codable, Equatable {
    public var stablePages: UInt64
    public var guardPages: UInt64
    public var churnPages: UInt64

    public init(stablePages: UInt64 = 256, guardPages: UInt64 = 64, churnPages: UInt64 = 4096) {
        self.stablePages = stablePages
        self.guardPages = guardPages
        self.churnPages = churnPages
    }

    /// Page 0 stays unmapped, like the kernel's mmap_min_addr.
    public var stable: PageRange { PageRange(start: 1, count: stablePages) }
    public var guardRegion: PageRange { PageRange(start: stable.end, count: guardPages) }
    public var churn: PageRange { PageRange(start: guardRegion.end, count: churnPages) }
    /// The model's address space, rounded up to whole page-table pages.
    public var totalPages: UInt64 {
        let ptes = UInt64(PageTable.ptesPerTable)
        return (churn.end + ptes - 1) / ptes * ptes
    }
    /// The slab and index capacity: room for every churn page to be its own
    /// VMA, twice over for records waiting on deferred frees.
    public var maxVMAs: Int { Int(churnPages) * 2 + 64 }
}
