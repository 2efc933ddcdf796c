/// The operations a run measures.
public enum OpKind: Int, CaseIterable, Codable, Sendable {
    case fault, mmap, munmap, mprotect, mremap, takeAllLocks
    /// A faulter's read-only VMA lookup (uprobes' find_active_uprobe_speculative).
    case lookup

    public var name: String {
        switch self {
        case .fault: return "fault"
        case .mmap: return "mmap"
        case .munmap: return "munmap"
        case .mprotect: return "mprotect"
        case .mremap: return "mremap"
        case .takeAllLocks: return "take-all-locks"
        case .lookup: return "lookup"
        }
    }

    public static let mutations: [OpKind] = [.mmap, .munmap, .mprotect, .mremap, .takeAllLocks]
}

/// What faulters and mutators do.
public struct OpMix: Sendable, Codable, Equatable {
    /// Percent of faults aimed at the stable region and at the guard; the rest go to churn.
    public var faultStablePercent: UInt64 = 25
    public var faultGuardPercent: UInt64 = 5
    /// Percent of churn faults aimed at the range a mutator announced for its
    /// current operation (where the races are), instead of anywhere in churn.
    public var faultHotPercent: UInt64 = 50
    /// Percent of faults that ask for write access.
    public var faultWritePercent: UInt64 = 50
    /// Percent of a faulter's operations that are read-only VMA lookups
    /// (mmap_lock speculation where the strategy has it) instead of faults.
    public var lookupPercent: UInt64 = 0
    /// Relative weights of the mutations.
    public var mmapWeight: UInt64 = 30
    public var munmapWeight: UInt64 = 30
    public var mprotectWeight: UInt64 = 30
    public var mremapWeight: UInt64 = 10
    /// mm_take_all_locks (seed 003): rare, it excludes every fault.
    public var takeAllLocksWeight: UInt64 = 2
    /// Mutation lengths are uniform in `1...maxMutationPages`.
    public var maxMutationPages: UInt64 = 32
    /// Percent of the churn region mapped before the run starts.
    public var initialChurnPercent: UInt64 = 50

    public init() {}

    var totalWeight: UInt64 { mmapWeight + munmapWeight + mprotectWeight + mremapWeight + takeAllLocksWeight }

    /// Up to this many VMAs take-all-locks keeps its weight.
    public static let takeAllLocksFullWeightVMAs = 4096

    /// The mix a mutator draws from in a run that starts with `vmas` VMAs.
    /// take-all-locks write-locks every VMA (mm_take_all_locks walks them
    /// all), so past 4,096 the other mutations weigh that many times more:
    /// it keeps the share of a mutator's time it has at 4,096, instead of
    /// taking all of it (at 65,530 VMAs, 27 ms a call under --check full)
    /// and starving every other race.
    public func scaledForTakeAllLocks(vmas: Int?) -> OpMix {
        guard let vmas, vmas > Self.takeAllLocksFullWeightVMAs, takeAllLocksWeight > 0 else { return self }
        let k = UInt64((vmas + Self.takeAllLocksFullWeightVMAs - 1) / Self.takeAllLocksFullWeightVMAs)
        var m = self
        m.mmapWeight *= k
        m.munmapWeight *= k
        m.mprotectWeight *= k
        m.mremapWeight *= k
        return m
    }

    @inline(__always)
    func pickMutation(_ rng: inout RNG) -> OpKind {
        var r = rng.below(totalWeight)
        if r < mmapWeight { return .mmap }
        r -= mmapWeight
        if r < munmapWeight { return .munmap }
        r -= munmapWeight
        if r < mprotectWeight { return .mprotect }
        r -= mprotectWeight
        return r < mremapWeight ? .mremap : .takeAllLocks
    }

    /// Churn mappings use these protections, drawn uniformly: half read-write,
    /// a quarter read-only, a quarter none.
    static let churnProts: [Prot] = [.readWrite, .readWrite, .read, .none]
}
