/// The address space a run works in, lowest first:
/// the stable region (mapped read-write before the run, never changed),
/// the guard (never mapped), and the churn region (where mutators work).
public struct Layout: Sendable, Codable, Equatable {
    public var stablePages: UInt64
    public var guardPages: UInt64
    public var churnPages: UInt64

    /// The largest address space a run takes, in pages (each region and all three together).
    public static let maxRegionPages: UInt64 = 1 << 26

    public init(stablePages: UInt64 = 256, guardPages: UInt64 = 64, churnPages: UInt64 = 4096) {
        self.stablePages = stablePages
        self.guardPages = guardPages
        self.churnPages = churnPages
    }

    /// The default layout for `workload` at `faulters` faulter threads: the
    /// churn region grows to give each faulter the pages its workload needs.
    public static func sized(for workload: Workload, faulters: Int) -> Layout {
        var l = Layout()
        // Saturating: a faulter count out of range is refused by RunConfig.validate, not trapped here.
        if let per = workload.spec.churnPagesPerFaulter {
            l.churnPages = max(l.churnPages, saturatingProduct(per, UInt64(clamping: max(1, faulters))))
        }
        return l
    }

    /// Pages of churn region each of `--vmas`'s VMAs gets: one mapped, the rest a gap.
    public static let pagesPerStartingVMA: UInt64 = 4

    /// The layout for `vmas` starting VMAs: the churn region grown to give each its pages.
    public func holding(vmas: Int?) -> Layout {
        guard let vmas else { return self }
        var l = self
        l.churnPages = max(l.churnPages, Self.saturatingProduct(UInt64(clamping: max(0, vmas)), Self.pagesPerStartingVMA))
        return l
    }

    static func saturatingProduct(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (p, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? .max : p
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
    /// VMA, twice over, and for the records waiting on deferred frees. At
    /// half a million munmaps a second (ebizzy, one thread) and grace periods
    /// of about 6 ms, spf-rcu's two-stage free keeps over 8000 records
    /// waiting: a slab of twice the churn ran dry and mmap failed for whole
    /// runs, so the backlog gets room of its own.
    public var maxVMAs: Int { Int(churnPages) * 2 + 64 + Self.deferredFreeRoom }
    public static let deferredFreeRoom = 65536
}
