/// rcutorture's and locktorture's perturbations, each off unless asked for.
public struct Perturbation: Codable, Sendable, Equatable {
    /// Every this many seconds all workers park for a fifth of it (stutter):
    /// readers and writers stop together and start again together, while the
    /// grace-period machinery runs on. 0: off.
    public var stutterSeconds: Double = 0
    /// Every this many seconds the worker threads move to other CPUs
    /// (shuffle): all onto one CPU in turn, then all CPUs again. 0: off.
    public var shuffleSeconds: Double = 0
    /// Long read-side sections: one fault in 16384 spins 100 µs inside its
    /// read section, one in 65536 sleeps 1 ms there (preempted inside it).
    public var longReads = false
    /// Writer bursts: mutators alternate bursts of 64 to 1023 operations with
    /// quiet gaps of 1 to 20 ms.
    public var writerBursts = false
    /// CPU hogs: this many threads spin outside the strategy, at normal
    /// priority, so workers are preempted inside their read sections and
    /// windows (stress-ng's and rcutorture's oversubscription). 0: off.
    public var hogs = 0
    /// Preemptions injected into every worker, between any two instructions
    /// (`Preempt`): by default on under `--check full` and off otherwise.
    public var preempt = Preempt.auto

    /// Hogs beyond this many are refused (they only oversubscribe further).
    public static let maxHogs = 64

    public init(stutterSeconds: Double = 0, shuffleSeconds: Double = 0, longReads: Bool = false, writerBursts: Bool = false,
                hogs: Int = 0, preempt: Preempt = .auto) {
        self.stutterSeconds = stutterSeconds
        self.shuffleSeconds = shuffleSeconds
        self.longReads = longReads
        self.writerBursts = writerBursts
        self.hogs = hogs
        self.preempt = preempt
    }

    enum CodingKeys: String, CodingKey { case stutterSeconds, shuffleSeconds, longReads, writerBursts, hogs, preempt }

    /// Results written before `hogs` or `preempt` existed read as none (those runs had neither).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        stutterSeconds = try c.decode(Double.self, forKey: .stutterSeconds)
        shuffleSeconds = try c.decode(Double.self, forKey: .shuffleSeconds)
        longReads = try c.decode(Bool.self, forKey: .longReads)
        writerBursts = try c.decode(Bool.self, forKey: .writerBursts)
        hogs = try c.decodeIfPresent(Int.self, forKey: .hogs) ?? 0
        preempt = try c.decodeIfPresent(Preempt.self, forKey: .preempt) ?? .off
    }

    /// Nothing asked for beyond what the check level brings (`preempt auto`).
    public var isNone: Bool { self == Perturbation() }

    /// The command-line words that ask for these perturbations.
    public var commandLineWords: [String] {
        var w: [String] = []
        if stutterSeconds > 0 { w.append("--stutter \(DurationText.format(stutterSeconds))") }
        if shuffleSeconds > 0 { w.append("--shuffle \(DurationText.format(shuffleSeconds))") }
        if longReads { w.append("--long-reads") }
        if writerBursts { w.append("--writer-bursts") }
        if hogs > 0 { w.append("--hogs \(hogs)") }
        if preempt != .auto { w.append("--preempt \(preempt)") }
        return w
    }

    /// How long one stutter holds the workers parked.
    var stutterHoldNanos: UInt64 { UInt64(stutterSeconds * 1e9 / 5) }
}
