/// The workload presets, modelled on the benchmarks the kernel patches were
/// judged by. Each is one row of `spec`: what the faulter threads do, the
/// mutators it runs by default, and how it changes the stress op mix;
/// `--mix` then adjusts single weights. Adding a workload is a case and its row.
public enum Workload: String, CaseIterable, Codable, Sendable {
    case stress
    case pageFault = "page-fault"
    case ebizzy
    case readMostly = "read-mostly"
    case mprotectStorm = "mprotect-storm"
    case munmapLarge = "munmap-large"
    // will-it-scale's testcases (tests/*.c), 128 MiB per thread, counted as it counts.
    case pageFault1 = "page_fault1"
    case pageFault2 = "page_fault2"
    case pageFault3 = "page_fault3"
    case mmap1
    case mmap2
    case brk1

    /// How a private-region faulter shapes its chunks.
    public struct RegionShape: Sendable {
        /// Chunks mapped at once.
        public let maxChunks: Int
        /// Read faults at random pages of its chunks after each chunk is touched.
        public let searchesPerChunk: Int
        /// Pages per chunk: this many (capped by the thread's slice), or nil
        /// for a random size up to `--mix max-pages` (and a quarter of the slice).
        public let chunkPages: UInt64?
        /// Write-fault every page of a new chunk (false: map and unmap only, as mmap1).
        public var touch = true
        /// What a chunk maps: anonymous memory or the thread's own temporary file.
        public var backing: Backing = .anonymous
        /// brk1: instead of chunks, a one-page heap grown and shrunk by one page at a time.
        public var heap = false
    }

    /// will-it-scale's mappings. The model has no page cache: a file mapping
    /// runs the same VMA and page-table protocol as an anonymous one, and the
    /// kernel backend maps a real file (created, sized and unlinked per thread).
    public enum Backing: String, Sendable {
        case anonymous, privateFile = "private-file", sharedFile = "shared-file"
    }

    /// What the workload's ops/s count, as will-it-scale counts its iterations.
    public enum Counted: String, Sendable {
        /// Every fault (page_fault1: one per page).
        case faults = "fault"
        /// Every mmap, each followed by its munmap (mmap1: one per pair).
        case mmaps = "mmap"
        /// Every mmap and every munmap (brk1: two per grow and shrink).
        case mappings = "brk"
    }

    public struct Spec: Sendable {
        public let summary: String
        /// nil: faulters fault at shared addresses (stable, guard, churn, the
        /// announced range); otherwise each maps, touches and unmaps chunks in
        /// its own slice of the churn region.
        public let regions: RegionShape?
        /// Mutator threads when the command line does not say.
        public let defaultMutators: Int
        /// The op mix: the stress mix with this preset's changes.
        public let mix: OpMix
        public var counted: Counted = .faults
        /// Churn pages each faulter needs (its chunk and a page between
        /// neighbours); the default layout grows to fit. nil: the default fits.
        public var churnPagesPerFaulter: UInt64? = nil
    }

    private static func mix(_ change: (inout OpMix) -> Void) -> OpMix {
        var m = OpMix()
        change(&m)
        return m
    }

    public var spec: Spec {
        switch self {
        case .stress:
            // The checker's default: faults everywhere (half of churn faults aimed at
            // the range a mutation is working on), one faulter operation in 20 a
            // read-only lookup, every mutation, take-all-locks.
            return Spec(summary: "faults and lookups everywhere, every mutation, take-all-locks (the checker's default)",
                        regions: nil, defaultMutators: 1, mix: Self.mix { $0.lookupPercent = 5 })
        case .pageFault:
            // will-it-scale page_fault1 (anonymous memory), in smaller regions: one at a time, as large as the slice
            // allows up to 2048 pages, write-faulted once, unmapped, again.
            return Spec(summary: "will-it-scale page_fault1 in 8 MiB regions: each thread maps, write-faults and unmaps its own region",
                        regions: RegionShape(maxChunks: 1, searchesPerChunk: 0, chunkPages: 2048), defaultMutators: 0,
                        mix: Self.mix { $0.initialChurnPercent = 0; $0.faultWritePercent = 100 })
        case .ebizzy:
            // ebizzy: several chunks of assorted sizes, searched between allocations.
            return Spec(summary: "ebizzy: threads allocate, search and free chunks of their own",
                        regions: RegionShape(maxChunks: 4, searchesPerChunk: 16, chunkPages: nil), defaultMutators: 0,
                        mix: Self.mix { $0.initialChurnPercent = 0; $0.faultWritePercent = 100 })
        case .readMostly:
            // The case speculative faults were made for.
            return Spec(summary: "faulters on the stable region, one mutator churning elsewhere",
                        regions: nil, defaultMutators: 1,
                        mix: Self.mix { $0.faultStablePercent = 100; $0.faultGuardPercent = 0; $0.faultHotPercent = 0 })
        case .mprotectStorm:
            return Spec(summary: "mutators only mprotect (splits and merges); faults aim at them",
                        regions: nil, defaultMutators: 1,
                        mix: Self.mix {
                            $0.mmapWeight = 0; $0.munmapWeight = 0; $0.mremapWeight = 0; $0.takeAllLocksWeight = 0
                            $0.mprotectWeight = 100
                        })
        case .munmapLarge:
            return Spec(summary: "mutators map and unmap up to 512 pages at a time",
                        regions: nil, defaultMutators: 1,
                        mix: Self.mix {
                            $0.mmapWeight = 50; $0.munmapWeight = 50; $0.mprotectWeight = 0; $0.mremapWeight = 0
                            $0.takeAllLocksWeight = 0; $0.maxMutationPages = 512
                        })
        case .pageFault1:
            return Self.willItScale("page_fault1: map 128 MiB anonymous, write one byte per page, unmap (counts faults)",
                                    RegionShape(maxChunks: 1, searchesPerChunk: 0, chunkPages: Self.willItScalePages), counted: .faults)
        case .pageFault2:
            return Self.willItScale("page_fault2: the same over a private mapping of a 128 MiB file of the thread's own (counts faults)",
                                    RegionShape(maxChunks: 1, searchesPerChunk: 0, chunkPages: Self.willItScalePages, backing: .privateFile),
                                    counted: .faults)
        case .pageFault3:
            return Self.willItScale("page_fault3: the same over a shared mapping of that file (counts faults)",
                                    RegionShape(maxChunks: 1, searchesPerChunk: 0, chunkPages: Self.willItScalePages, backing: .sharedFile),
                                    counted: .faults)
        case .mmap1:
            return Self.willItScale("mmap1: map and unmap 128 MiB anonymous, untouched (counts mmap and munmap pairs)",
                                    RegionShape(maxChunks: 1, searchesPerChunk: 0, chunkPages: Self.willItScalePages, touch: false),
                                    counted: .mmaps)
        case .mmap2:
            return Self.willItScale("mmap2: map and unmap 128 MiB of the thread's own file, private, untouched (counts pairs)",
                                    RegionShape(maxChunks: 1, searchesPerChunk: 0, chunkPages: Self.willItScalePages, touch: false,
                                                backing: .privateFile),
                                    counted: .mmaps)
        case .brk1:
            // brk grows the heap VMA in place (vma_expand) and shrinks it
            // (do_vmi_align_munmap): an mmap of the page after the heap that
            // merges with it, and a munmap of that page.
            return Self.willItScale("brk1: grow the thread's heap by one page and shrink it again (counts both)",
                                    RegionShape(maxChunks: 1, searchesPerChunk: 0, chunkPages: 1, heap: true),
                                    counted: .mappings, pagesPerFaulter: 3)
        }
    }

    /// will-it-scale's MEMSIZE: 128 MiB.
    public static let willItScalePages: UInt64 = 32768

    /// Room for a 128 MiB chunk on a page-table boundary, and a gap after it.
    private static func willItScale(_ summary: String, _ shape: RegionShape, counted: Counted,
                                     pagesPerFaulter: UInt64 = willItScalePages + 2 * UInt64(PageTable.ptesPerTable)) -> Spec {
        var s = Spec(summary: summary, regions: shape, defaultMutators: 0,
                     mix: Self.mix { $0.initialChurnPercent = 0; $0.faultWritePercent = 100 })
        s.counted = counted
        s.churnPagesPerFaulter = pagesPerFaulter
        return s
    }

    /// `--processes` can run it: each faulter maps, touches and unmaps one region of its own.
    public var runsInProcesses: Bool { spec.regions.map { $0.maxChunks == 1 && $0.searchesPerChunk == 0 } ?? false }

    /// What a soak rotates through unless told: all but the 128 MiB testcases
    /// (their size, not their protocol: page-fault runs the same loop in 8 MiB).
    public static var soakDefault: [Workload] {
        allCases.filter { ($0.spec.churnPagesPerFaulter ?? 0) < willItScalePages }
    }

    public var summary: String { spec.summary }
    /// The faulters work in private regions of their own instead of faulting at shared addresses.
    public var privateRegions: Bool { spec.regions != nil }
    public var defaultMutators: Int { spec.defaultMutators }
    public var mix: OpMix { spec.mix }
}
