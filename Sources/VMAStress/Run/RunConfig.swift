/// How much the checker does while the run is measured (`--check`).
public enum CheckLevel: String, CaseIterable, Codable, Sendable {
    /// Inline checks, torture delays, an audit after every mutation, checkpoints.
    case full
    /// Inline checks (UAF, PIPE, TORN, STABLE, STALE-PTE met by faults) and checkpoints; no delays, no per-mutation audit.
    case light
    /// Nothing while measuring: only the final audit after the workers stop.
    case off
}

extension RunShape {
    /// A run given the shape a twin's race needs.
    public func apply(to c: inout RunConfig) {
        if let faulters { c.faulters = faulters }
        if let mutators, !c.workload.privateRegions { c.mutators = max(c.mutators, mutators) }
        if let mms { c.mms = mms }
        if mmChurn { c.mmChurn = true }
        if lockstep { c.lockstep = true }
        if let churnPages { c.layout.churnPages = churnPages }
        if let mix {
            do { try c.mix.apply(spec: mix) } catch { preconditionFailure("a twin's race shape has a bad --mix \(mix): \(error)") }
        }
    }
}

/// Everything one run depends on. `commandLine` renders it back as the
/// `vmastress run` invocation that reproduces it.
public struct RunConfig: Codable, Sendable, Equatable {
    public var strategy: String
    public var faulters: Int
    public var mutators: Int
    public var durationSeconds: Double
    public var warmupSeconds: Double
    public var seed: UInt64
    /// Seconds between checkpoints (full audits with workers parked); 0 turns them off.
    public var checkpointIntervalSeconds: Double
    /// A worker that does not reach a checkpoint within this is reported as a stall.
    public var stallTimeoutSeconds: Double
    /// Time one fault in this many (a power of two); every mutation is timed.
    public var faultSampleEvery: Int
    public var keepGoing: Bool
    public var layout: Layout
    public var mix: OpMix
    public var placement: PlacementRequest
    /// The lookup tree; nil: the strategy's own (the first it lists).
    public var index: IndexKind?
    /// The liburcu flavor of strategies whose readers use RCU.
    public var rcuFlavor: RCUFlavorKind
    /// How much checking runs while measuring.
    public var check: CheckLevel
    /// Seconds between stat lines while measuring; 0: none.
    public var statIntervalSeconds: Double = 0
    /// The preset `mix` started from (and what faulters do).
    public var workload: Workload = .stress
    /// Stutter, shuffle, long reads, writer bursts.
    public var perturbation = Perturbation()
    /// What a fault does besides its locking when it installs a PTE.
    public var faultWork = FaultWork.none
    /// What a model mutation costs besides the model's steps (nil: none; optional so that
    /// results written before it existed still load).
    public var mutationWork: MutationWork?
    /// `--processes`: each faulter runs in a process of its own (the kernel
    /// backend, on workloads whose faulters map their own regions).
    public var processes = false
    /// Operations a second each mutator starts (`--mutation-rate`); 0: as fast as it can.
    public var mutationRate = 0.0
    public static let maxMutationRate = 10_000_000.0
    /// `--mms`: model address spaces sharing one VMA cache (several
    /// processes); workers are dealt to them in turn (an mm left without
    /// one keeps its mappings: a sleeping process).
    public var mms = 1
    public static let maxMMs = 64
    /// `--mm-churn`: a thread creates and exits short-lived mms beside them.
    public var mmChurn = false
    /// `--lockstep`: each mutator makes every mutation in every mm in turn,
    /// so the mms stay copies of one another.
    public var lockstep = false
    /// `--vmas N`: the churn region starts with N one-page VMAs spread
    /// evenly over it, protections alternating so none merge; nil: the
    /// workload's random fill.
    public var vmas: Int?
    public static let maxVMAs = 1_000_000

    public init(strategy: String = "mmap-lock", faulters: Int = 2, mutators: Int = 1,
                durationSeconds: Double = 5, warmupSeconds: Double = 1, seed: UInt64 = 1,
                checkpointIntervalSeconds: Double = 1, stallTimeoutSeconds: Double = 10,
                faultSampleEvery: Int = 64, keepGoing: Bool = false,
                layout: Layout = Layout(), mix: OpMix = Workload.stress.mix, placement: PlacementRequest = PlacementRequest(),
                index: IndexKind? = nil, rcuFlavor: RCUFlavorKind = .memb, check: CheckLevel = .full) {
        self.strategy = strategy
        self.faulters = faulters
        self.mutators = mutators
        self.durationSeconds = durationSeconds
        self.warmupSeconds = warmupSeconds
        self.seed = seed
        self.checkpointIntervalSeconds = checkpointIntervalSeconds
        self.stallTimeoutSeconds = stallTimeoutSeconds
        self.faultSampleEvery = faultSampleEvery
        self.keepGoing = keepGoing
        self.layout = layout
        self.mix = mix
        self.placement = placement
        self.index = index
        self.rcuFlavor = rcuFlavor
        self.check = check
    }

    public var workers: Int { faulters + mutators }

    /// Worker threads a run may start (faulters and mutators together).
    public static let maxWorkers = 512
    public static let maxSampleEvery = 1 << 20

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// Rejects what cannot run, with a message naming the option.
    public func validate() throws { _ = try resolve() }

    /// The run plan: the strategy's entry looked up (the one lookup by name
    /// on the way from a config to a report), every option checked against
    /// it, with a message naming the option for what cannot run.
    public func resolve() throws -> RunPlan {
        guard let type = StrategyRegistry.named(strategy) else {
            throw Invalid(description: "unknown strategy '\(strategy)'; 'vmastress strategies --busted' lists them")
        }
        try checkStrategy(type)
        try checkRanges()
        try checkShape(type)
        try checkPlacement()
        return RunPlan(self, entry: type)
    }

    /// What the strategy is built for: flavors, trees, threads.
    func checkStrategy(_ type: StrategyEntry) throws {
        if type.info.usesRCU && !type.flavors.contains(rcuFlavor) {
            throw Invalid(description: "strategy '\(strategy)' is built for --rcu-flavor \(type.flavors.map(\.rawValue).joined(separator: ", ")) only (got \(rcuFlavor.rawValue))")
        }
        if let index, !type.info.indexes.contains(index) {
            throw Invalid(description: "strategy '\(strategy)' runs on --index \(type.info.indexes.map(\.rawValue).joined(separator: " or ")), not \(index.rawValue)")
        }
        guard (1...Self.maxWorkers).contains(faulters) else {
            throw Invalid(description: "--faulters must be between 1 and \(Self.maxWorkers) (got \(faulters))")
        }
        guard (0...Self.maxWorkers).contains(mutators) else {
            throw Invalid(description: "--mutators must be between 0 and \(Self.maxWorkers) (got \(mutators))")
        }
        guard workers <= Self.maxWorkers else {
            throw Invalid(description: "--faulters and --mutators add up to at most \(Self.maxWorkers) (got \(workers))")
        }
        if let most = type.info.maxWorkers, workers > most {
            throw Invalid(description: "strategy '\(strategy)' runs at most \(most) worker thread(s); got \(faulters) faulter(s) and \(mutators) mutator(s)")
        }
    }

    /// Every count, time and size within its range.
    func checkRanges() throws {
        guard durationSeconds > 0 else { throw Invalid(description: "--duration must be more than zero") }
        guard stallTimeoutSeconds >= 0.1 else { throw Invalid(description: "--stall-timeout must be at least 100ms") }
        for (name, s) in [("--checkpoint-interval", checkpointIntervalSeconds), ("--stat-interval", statIntervalSeconds)] where s > 0 && s < 0.01 {
            throw Invalid(description: "\(name) must be 0 (off) or at least 10ms")
        }
        guard (1...Self.maxSampleEvery).contains(faultSampleEvery), faultSampleEvery & (faultSampleEvery - 1) == 0 else {
            throw Invalid(description: "--sample-every must be a power of two from 1 to \(Self.maxSampleEvery)")
        }
        // Before the layout: --vmas sizes the churn region, and a count out of range would be reported as a region size.
        if let vmas, !(1...Self.maxVMAs).contains(vmas) {
            throw Invalid(description: "--vmas must be between 1 and \(Self.maxVMAs) (got \(vmas))")
        }
        guard layout.stablePages >= 1, layout.guardPages >= 1, layout.churnPages >= 16 else {
            throw Invalid(description: "regions too small: stable and guard need 1 page, churn 16")
        }
        let most = Layout.maxRegionPages
        guard layout.stablePages <= most, layout.guardPages <= most, layout.churnPages <= most, layout.totalPages <= most else {
            throw Invalid(description: "--stable-pages, --guard-pages and --churn-pages add up to at most \(most) (2^26) pages")
        }
        // The same bounds `--mix` applies, for mixes that come from elsewhere (presets, suites, code).
        for k in OpMix.specKeys where mix[keyPath: k.path] > OpMix.specMaximum(k.key) {
            throw Invalid(description: "--mix \(k.key)=\(mix[keyPath: k.path]): the most it takes is \(OpMix.specMaximum(k.key))")
        }
        guard mix.faultStablePercent + mix.faultGuardPercent <= 100 else {
            throw Invalid(description: "fault percentages must add up to at most 100")
        }
        guard mix.maxMutationPages >= 1, mix.maxMutationPages <= layout.churnPages else {
            throw Invalid(description: "--max-op-pages must be between 1 and the churn region's size")
        }
        guard mutators == 0 || mix.totalWeight > 0 else { throw Invalid(description: "all mutation weights are zero") }
        guard mutationRate == 0 || (1...Self.maxMutationRate).contains(mutationRate) else {
            throw Invalid(description: "--mutation-rate must be 0 (flat out) or between 1 and \(Int(Self.maxMutationRate)) operations a second (got \(mutationRate))")
        }
    }

    /// Processes, mms, private regions and --vmas against the strategy and the workload.
    func checkShape(_ type: StrategyEntry) throws {
        if processes {
            guard type.capabilities.contains(.processes) else {
                throw Invalid(description: "--processes runs a backend's faulters in processes of their own (the kernel's); '\(strategy)' is a model strategy (its workers share one model mm)")
            }
            guard workload.runsInProcesses else {
                throw Invalid(description: "--processes runs workloads whose faulters map, touch and unmap one region of their own (\(Workload.allCases.filter(\.runsInProcesses).map(\.rawValue).joined(separator: ", "))), not \(workload.rawValue)")
            }
        }
        guard (1...Self.maxMMs).contains(mms) else {
            throw Invalid(description: "--mms must be between 1 and \(Self.maxMMs) (got \(mms))")
        }
        if lockstep && mms < 2 {
            throw Invalid(description: "--lockstep keeps several mms in step: give --mms 2 or more (got --mms \(mms))")
        }
        if (mms > 1 || mmChurn) && !type.capabilities.contains(.severalMMs) {
            throw Invalid(description: "--mms and --mm-churn make model address spaces; the kernel backend runs in this process's own (use --processes for several)")
        }
        if workload.privateRegions {
            guard mutators == 0 else {
                throw Invalid(description: "--workload \(workload.rawValue) runs no mutators: its faulters map and unmap their own regions (got --mutators \(mutators))")
            }
            guard layout.churnPages / UInt64(faulters) >= 16 else {
                throw Invalid(description: "--workload \(workload.rawValue) gives each faulter churn-pages / faulters pages; that is below 16")
            }
        }
        if let vmas {
            guard !workload.privateRegions else {
                throw Invalid(description: "--vmas fills the churn region, which --workload \(workload.rawValue) gives its faulters to map their own regions in")
            }
            guard layout.churnPages >= UInt64(vmas) * 2 else {
                throw Invalid(description: "--vmas \(vmas) needs a churn region of at least \(vmas * 2) pages (a page and a gap each); --churn-pages is \(layout.churnPages)")
            }
            if type.capabilities.contains(.realMappings), let limit = KernelLimits.maxMapCount, vmas > KernelLimits.maxVMAs(mapCount: limit) {
                throw Invalid(description: "--vmas \(vmas) is more mappings than the kernel allows this process: each VMA and the reserved gap after it are two, vm.max_map_count is \(limit) and the process needs about \(KernelLimits.mapsReserved) of its own, so at most \(KernelLimits.maxVMAs(mapCount: limit)); raise it with sysctl -w vm.max_map_count=\(KernelLimits.mapCount(forVMAs: vmas))")
            }
        }
    }

    func checkPlacement() throws {
        guard (0...Perturbation.maxHogs).contains(perturbation.hogs) else {
            throw Invalid(description: "--hogs must be between 0 and \(Perturbation.maxHogs) (got \(perturbation.hogs))")
        }
        if perturbation.shuffleSeconds > 0 && placement.pinsThreads {
            throw Invalid(description: "--shuffle moves threads between CPUs; it cannot be combined with --cpus, --pin or the node options")
        }
        do {
            _ = try Placement.plan(placement, topology: .current(), faulters: faulters, mutators: mutators)
        } catch {
            throw Invalid(description: "\(error)")
        }
    }

    /// The `vmastress run` command line that repeats this run.
    public var commandLine: String { (["vmastress", "run"] + runArguments).joined(separator: " ") }

    /// The arguments after `vmastress run` that repeat this run (no value holds a space).
    public var runArguments: [String] {
        var words = [
            "--strategy \(strategy)", "--faulters \(faulters)", "--mutators \(mutators)",
            "--duration \(DurationText.format(durationSeconds))", "--warmup \(DurationText.format(warmupSeconds))",
            "--seed \(seed)",
        ]
        if workload != .stress { words.append("--workload \(workload.rawValue)") }
        let mixSpec = mix.spec(from: workload.mix)
        if !mixSpec.isEmpty { words.append("--mix \(mixSpec)") }
        words += perturbation.commandLineWords
        if let index { words.append("--index \(index.rawValue)") }
        if check != .full { words.append("--check \(check.rawValue)") }
        if faultWork != .none { words.append("--fault-work \(faultWork)") }
        if let mutationWork, !mutationWork.isNone { words.append("--mutation-work \(mutationWork)") }
        if processes { words.append("--processes") }
        if mms > 1 { words.append("--mms \(mms)") }
        if mmChurn { words.append("--mm-churn") }
        if lockstep { words.append("--lockstep") }
        if let vmas { words.append("--vmas \(vmas)") }
        if mutationRate > 0 { words.append("--mutation-rate \(TextReport.fixed(mutationRate, mutationRate.rounded() == mutationRate ? 0 : 1))") }
        if statIntervalSeconds > 0 { words.append("--stat-interval \(DurationText.format(statIntervalSeconds))") }
        // A resolved config has memb for strategies without RCU (RunPlan).
        if rcuFlavor != .memb {
            words.append("--rcu-flavor \(rcuFlavor.rawValue)")
        }
        let d = RunConfig()
        if checkpointIntervalSeconds != d.checkpointIntervalSeconds {
            words.append("--checkpoint-interval \(DurationText.format(checkpointIntervalSeconds))")
        }
        if stallTimeoutSeconds != d.stallTimeoutSeconds {
            words.append("--stall-timeout \(DurationText.format(stallTimeoutSeconds))")
        }
        if faultSampleEvery != d.faultSampleEvery { words.append("--sample-every \(faultSampleEvery)") }
        if keepGoing { words.append("--keep-going") }
        if layout.stablePages != d.layout.stablePages { words.append("--stable-pages \(layout.stablePages)") }
        if layout.guardPages != d.layout.guardPages { words.append("--guard-pages \(layout.guardPages)") }
        if layout.churnPages != Layout.sized(for: workload, faulters: faulters).holding(vmas: vmas).churnPages {
            words.append("--churn-pages \(layout.churnPages)")
        }
        words += placement.commandLineWords
        return words.flatMap { $0.split(separator: " ").map(String.init) }
    }
}
