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

    /// How a private-region faulter shapes its chunks.
    public struct RegionShape: Sendable {
        /// Chunks mapped at once.
        public let maxChunks: Int
        /// Read faults at random pages of its chunks after each chunk is touched.
        public let searchesPerChunk: Int
        /// Pages per chunk: this many (capped by the thread's slice), or nil
        /// for a random size up to `--mix max-pages` (and a quarter of the slice).
        public let chunkPages: UInt64?
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
            // the range a mutation is working on), every mutation, take-all-locks.
            return Spec(summary: "faults everywhere, every mutation, take-all-locks (the checker's default)",
                        regions: nil, defaultMutators: 1, mix: OpMix())
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
        }
    }

    public var summary: String { spec.summary }
    /// The faulters work in private regions of their own instead of faulting at shared addresses.
    public var privateRegions: Bool { spec.regions != nil }
    public var defaultMutators: Int { spec.defaultMutators }
    public var mix: OpMix { spec.mix }
}
