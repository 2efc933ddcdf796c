/// The workload presets, modelled on the benchmarks the kernel patches were
/// judged by. A preset shapes the op mix and says what the faulter threads
/// do; `--mix` then adjusts single weights.
public enum Workload: String, CaseIterable, Codable, Sendable {
    /// The checker's default: faults everywhere (half of churn faults aimed at
    /// the range a mutation is working on), every mutation, take-all-locks.
    case stress
    /// will-it-scale page_fault2: each thread maps its own region, write-faults
    /// every page, unmaps it, again.
    case pageFault = "page-fault"
    /// ebizzy: each thread allocates chunks (mmap, write every page), searches
    /// them (read faults at random pages) and frees them (munmap).
    case ebizzy
    /// Many faulters on the stable region, one mutator churning elsewhere:
    /// the case speculative faults were made for.
    case readMostly = "read-mostly"
    /// Mutators only mprotect (splitting VMAs and merging them back) while
    /// faulters aim at the ranges they change.
    case mprotectStorm = "mprotect-storm"
    /// Mutators map and unmap large ranges (up to 512 pages at a time).
    case munmapLarge = "munmap-large"

    public var summary: String {
        switch self {
        case .stress: return "faults everywhere, every mutation, take-all-locks (the checker's default)"
        case .pageFault: return "will-it-scale page_fault2: each thread maps, touches and unmaps its own region"
        case .ebizzy: return "ebizzy: threads allocate, search and free chunks of their own"
        case .readMostly: return "faulters on the stable region, one mutator churning elsewhere"
        case .mprotectStorm: return "mutators only mprotect (splits and merges); faults aim at them"
        case .munmapLarge: return "mutators map and unmap up to 512 pages at a time"
        }
    }

    /// The faulters work in private regions of their own (mapping, touching
    /// and unmapping them) instead of faulting at shared addresses.
    public var privateRegions: Bool { self == .pageFault || self == .ebizzy }

    /// Mutator threads when the command line does not say.
    public var defaultMutators: Int { privateRegions ? 0 : 1 }

    /// The op mix this preset starts from.
    public var mix: OpMix {
        var m = OpMix()
        switch self {
        case .stress:
            break
        case .pageFault, .ebizzy:
            // The faulters map their own regions; nothing is mapped in churn beforehand.
            m.initialChurnPercent = 0
            m.faultWritePercent = 100
        case .readMostly:
            m.faultStablePercent = 100
            m.faultGuardPercent = 0
            m.faultHotPercent = 0
        case .mprotectStorm:
            m.mmapWeight = 0
            m.munmapWeight = 0
            m.mremapWeight = 0
            m.takeAllLocksWeight = 0
            m.mprotectWeight = 100
        case .munmapLarge:
            m.mmapWeight = 50
            m.munmapWeight = 50
            m.mprotectWeight = 0
            m.mremapWeight = 0
            m.takeAllLocksWeight = 0
            m.maxMutationPages = 512
        }
        return m
    }
}
