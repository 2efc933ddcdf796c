/// A busted twin: a correct strategy with one step broken the way a real
/// patch once broke it. Everything not overridden forwards to `base`, so a
/// twin is only its info and the one broken hook.
public protocol BustedTwin: Strategy {
    associatedtype Base: Strategy
    var base: Base { get }
}

extension BustedTwin {
    public var mm: MM { base.mm }
    public func mmWriteLock() { base.mmWriteLock() }
    public func mmWriteUnlock() { base.mmWriteUnlock() }
    public func treeWriteBegin() { base.treeWriteBegin() }
    public func treeWriteEnd() { base.treeWriteEnd() }
    public func vmaWriteBegin(_ v: VMAPtr) { base.vmaWriteBegin(v) }
    public func vmaWriteEnd(_ v: VMAPtr) { base.vmaWriteEnd(v) }
    public func vmaPrepare(_ v: VMAPtr) { base.vmaPrepare(v) }
    public func vmaAttach(_ v: VMAPtr) { base.vmaAttach(v) }
    public func vmaRetire(_ v: VMAPtr) { base.vmaRetire(v) }
    public func zapPTEs(_ range: PageRange, of v: VMAPtr) -> Int { base.zapPTEs(range, of: v) }
    public func findGap(count: UInt64, within: PageRange, hint: UInt64) -> PageRange? {
        base.findGap(count: count, within: within, hint: hint)
    }
    public func threadStart(_ ctx: inout FaultContext) { base.threadStart(&ctx) }
    public func threadStop(_ ctx: inout FaultContext) { base.threadStop(&ctx) }
    @inline(__always) public func quiescentState() { base.quiescentState() }
    public func threadOffline() { base.threadOffline() }
    public func threadOnline() { base.threadOnline() }
    public var deferredStats: DeferredFreeStats? { base.deferredStats }
    @inline(__always)
    public func fault(_ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult {
        base.fault(page, write: write, &ctx)
    }
    public func quiesce() { base.quiesce() }
    public func shutdown() { base.shutdown() }
    public func takeFindings() -> [Finding] { base.takeFindings() }
    public func lookup(_ page: UInt64, _ ctx: inout FaultContext) -> FaultResult { base.lookup(page, &ctx) }
}
