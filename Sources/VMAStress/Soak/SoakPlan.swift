/// What a soak rotates through, and the phases it derives from its seed.
/// Phase `i` depends only on the seed and `i`, so any phase can be rebuilt
/// (and its `vmastress run` reproducer is complete on its own).
public struct SoakPlan: Codable, Sendable, Equatable {
    public var seed: UInt64
    /// Strategies in rotation order: the correct ones, then any busted twins asked for.
    public let entries: [StrategyEntry]
    public var workloads: [Workload]
    public var phaseSeconds: Double
    public var warmupSeconds: Double = 0.5
    public var statIntervalSeconds: Double = 0

    public var strategies: [String] { entries.map(\.info.name) }

    public init(seed: UInt64, strategies: [StrategyEntry], workloads: [Workload] = Workload.soakDefault, phaseSeconds: Double) {
        self.seed = seed
        self.entries = strategies
        self.workloads = workloads
        self.phaseSeconds = phaseSeconds
    }

    enum CodingKeys: String, CodingKey { case seed, strategies, workloads, phaseSeconds, warmupSeconds, statIntervalSeconds }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        seed = try c.decode(UInt64.self, forKey: .seed)
        entries = try c.decode([String].self, forKey: .strategies).map { name in
            guard let e = StrategyRegistry.named(name) else {
                throw DecodingError.dataCorruptedError(forKey: .strategies, in: c, debugDescription: "unknown strategy '\(name)'")
            }
            return e
        }
        workloads = try c.decode([Workload].self, forKey: .workloads)
        phaseSeconds = try c.decode(Double.self, forKey: .phaseSeconds)
        warmupSeconds = try c.decode(Double.self, forKey: .warmupSeconds)
        statIntervalSeconds = try c.decode(Double.self, forKey: .statIntervalSeconds)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(seed, forKey: .seed)
        try c.encode(strategies, forKey: .strategies)
        try c.encode(workloads, forKey: .workloads)
        try c.encode(phaseSeconds, forKey: .phaseSeconds)
        try c.encode(warmupSeconds, forKey: .warmupSeconds)
        try c.encode(statIntervalSeconds, forKey: .statIntervalSeconds)
    }

    public static func == (a: SoakPlan, b: SoakPlan) -> Bool {
        a.seed == b.seed && a.strategies == b.strategies && a.workloads == b.workloads && a.phaseSeconds == b.phaseSeconds
            && a.warmupSeconds == b.warmupSeconds && a.statIntervalSeconds == b.statIntervalSeconds
    }

    /// (faulters, mutators): light, balanced, writer-heavy, and 4 and 8
    /// threads per core (oversubscription, preemption inside read sections).
    public static func threadShapes(cores: Int) -> [(faulters: Int, mutators: Int)] {
        let c = max(1, cores)
        return [(1, 1), (2, 1), (2, 2), (3 * c, c), (6 * c, 2 * c)]
    }

    /// Phase `i`, lasting `seconds`.
    public func phase(_ i: Int, seconds: Double, cores: Int) -> RunConfig {
        var rng = RNG(seed: seed ^ (UInt64(i) &* 0x9E37_79B9_7F4A_7C15))
        let entry = entries[i % entries.count], info = entry.info, name = info.name
        let workload = workloads[Int(rng.below(UInt64(workloads.count)))]
        let shape = Self.threadShapes(cores: cores)[Int(rng.below(5))]
        var faulters = shape.faulters, mutators = shape.mutators
        if workload.privateRegions {
            faulters += mutators
            mutators = 0
        }
        if let most = info.maxWorkers, faulters + mutators > most {
            faulters = max(1, most - min(mutators, 1))
            mutators = min(mutators, most - faulters)
        }
        var p = Perturbation()
        if rng.below(2) == 0 { p.stutterSeconds = Double(2 + rng.below(3)) }
        if rng.below(2) == 0 { p.shuffleSeconds = Double(1 + rng.below(3)) }
        p.longReads = rng.below(3) == 0
        p.writerBursts = mutators > 0 && rng.below(2) == 0
        p.hogs = rng.below(2) == 0 ? Int(1 + rng.below(UInt64(2 * max(1, cores)))) : 0
        // Injected preemptions (on under check full) in three phases of four.
        if rng.below(4) == 0 { p.preempt = .off }
        var c = RunConfig(
            strategy: name, faulters: faulters, mutators: mutators, durationSeconds: seconds,
            warmupSeconds: warmupSeconds, seed: rng.next() % 1_000_000_007,
            index: info.indexes[Int(rng.below(UInt64(info.indexes.count)))],
            rcuFlavor: info.usesRCU ? entry.flavors[Int(rng.below(UInt64(entry.flavors.count)))] : .memb,
            check: .full)
        c.workload = workload
        c.layout = Layout.sized(for: workload, faulters: faulters)
        c.mix = workload.mix
        c.perturbation = p
        c.statIntervalSeconds = statIntervalSeconds
        // Model strategies: now and then several processes sharing the VMA cache, or short-lived ones beside.
        if entry.capabilities.contains(.severalMMs) {
            if rng.below(3) == 0 { c.mms = min(c.faulters, 2 + Int(rng.below(3))) }
            c.mmChurn = rng.below(3) == 0
            // Half the phases with several mms keep them in step, so freed records go to the other mm's same change.
            if c.mms > 1 && c.mutators > 0 { c.lockstep = rng.below(2) == 0 }
        }
        info.caughtWith?.apply(to: &c)
        return c
    }
}
