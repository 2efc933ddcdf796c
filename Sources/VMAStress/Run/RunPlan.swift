/// A run with every choice resolved, once, from its config: the registry
/// entry (and so the strategy's capabilities), the tree, and the config
/// itself normalised (no fault work for a strategy that owns its own, the
/// memb flavor for one without RCU), so that its command line repeats it.
/// Everything downstream of `RunConfig.resolve` takes a plan, never a name.
public struct RunPlan: Sendable {
    public let config: RunConfig
    public let entry: StrategyEntry
    /// The lookup tree: `--index`, or the strategy's own (the first it lists).
    public let index: IndexKind

    public var info: StrategyInfo { entry.info }
    public var capabilities: Capabilities { entry.capabilities }

    /// A plan for an entry that need not be registered (tests' own strategies).
    public init(_ config: RunConfig, entry: StrategyEntry) {
        var c = config
        // The host kernel's faults and mutations cost what they cost.
        if entry.capabilities.contains(.ownsFaultWork) { c.faultWork = .none; c.mutationWork = nil }
        if c.mutationWork?.isNone == true { c.mutationWork = nil }
        if !entry.capabilities.contains(.usesRCU) { c.rcuFlavor = .memb }
        self.config = c
        self.entry = entry
        index = config.index ?? entry.info.indexes.first ?? .rbtree
    }

    /// Runs it: the entry's runner, specialised for the strategy's type.
    public func run() throws -> RunResult { try entry.run(self) }
}
