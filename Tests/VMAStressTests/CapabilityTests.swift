import Foundation
import Testing
import VMAStress

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// mmap-lock's protocol written outside the library, with its public API
/// alone (this file imports VMAStress without @testable).
struct OutsideMMapLock: Strategy {
    static let info = StrategyInfo(name: "test-outside-mmap-lock", summary: "mmap-lock, registered by a test target",
                                   origin: "Tests/VMAStressTests/CapabilityTests.swift")
    let mm: MM
    init(mm: MM) { self.mm = mm }

    func mmWriteLock() { mm.mmapLock.writeLock() }
    func mmWriteUnlock() { mm.mmapLock.writeUnlock() }

    func fault(_ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult {
        mm.mmapLock.readLock()
        defer { mm.mmapLock.readUnlock() }
        return mm.faultLocked(page, write: write)
    }
}

/// The harness asks what a strategy can do, never which one it is; the
/// registry is open to strategies from outside the library.
@Suite("Capabilities and the open registry", .serialized)
struct CapabilityTests {
    @Test func aStrategyRegisteredFromOutsideRunsAndIsReported() throws {
        try StrategyRegistry.register(StrategyEntry(OutsideMMapLock.self))
        defer { StrategyRegistry.unregister(OutsideMMapLock.info.name) }
        #expect(throws: RunConfig.Invalid.self) { try StrategyRegistry.register(StrategyEntry(OutsideMMapLock.self)) }
        #expect(StrategyRegistry.correct.map(\.info.name).contains(OutsideMMapLock.info.name))
        let c = RunConfig(strategy: OutsideMMapLock.info.name, faulters: 1, mutators: 1, durationSeconds: 0.3, warmupSeconds: 0.05)
        let plan = try c.resolve()
        #expect(plan.capabilities == Capabilities.model)
        let r = try plan.run()
        #expect(r.verdict == .success, "\(r.checker.violationCount) violation(s)")
        #expect(r.strategy == OutsideMMapLock.info.name)
        #expect((r.op(.fault)?.count ?? 0) > 0)
        #expect(TextReport.render(r).contains("strategy \(OutsideMMapLock.info.name) on rbtree"))
        #expect(r.reproduce.contains("--strategy \(OutsideMMapLock.info.name)"))
    }

    @Test func theHostKernelIsItsCapabilities() throws {
        let kernel = try RunConfig(strategy: "kernel", faulters: 1, mutators: 0, durationSeconds: 0.1).resolve()
        #expect(kernel.capabilities == Capabilities.hostKernel)
        var model = RunConfig(strategy: "per-vma-refcount", faulters: 1, mutators: 0, durationSeconds: 0.1)
        model.faultWork = .nanoseconds(100)
        model.rcuFlavor = .qsbr
        let plan = try model.resolve()
        #expect(plan.capabilities.isSuperset(of: [.modelStore, .severalMMs, .lookups, .usesRCU, .lockless, .typeSafeCache]))
        #expect(plan.config.faultWork == model.faultWork && plan.config.rcuFlavor == .qsbr)
        var owns = RunConfig(strategy: "kernel", faulters: 1, mutators: 0, durationSeconds: 0.1)
        owns.faultWork = .nanoseconds(100)
        #expect(try owns.resolve().config.faultWork == FaultWork.none, "a backend that owns its fault work does none of the model's")
        #expect(Capabilities(names: Capabilities.hostKernel.names) == .hostKernel)
    }

    /// A suite's rcu-flavor reaches every cell; `bench --against` hands each
    /// child the resolved config's words, which a strategy without RCU takes.
    @Test func aResolvedConfigRepeatsItselfWithoutAFlavorItCannotTake() throws {
        var c = RunConfig(strategy: "mmap-lock", faulters: 1, mutators: 0, durationSeconds: 0.1)
        c.rcuFlavor = .qsbr
        #expect(!(try c.resolve().config.runArguments.contains("--rcu-flavor")))
        c.strategy = "spf-rcu"
        #expect(try c.resolve().config.runArguments.joined(separator: " ").contains("--rcu-flavor qsbr"))
    }

    /// docs/architecture.md: no branch on a strategy's or backend's identity,
    /// and names become entries only where outside words are read.
    @Test func noBranchOnIdentityAndNoLookupByNameDownstream() throws {
        let lookupAllowed: Set<String> = [
            "Run/StrategyRegistry.swift", // the registry itself
            "Run/RunConfig.swift", // RunConfig.resolve: a config's strategy word
            "Bench/Suite.swift", // a suite file's strategy items
            "Soak/SoakPlan.swift", // a soak plan read back from its JSON
        ]
        let library = root.appendingPathComponent("Sources/VMAStress")
        let files = FileManager.default.enumerator(atPath: library.path)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        #expect(files.count > 50)
        var found: [String] = []
        for f in files {
            // Comments out; strings stay (a comparison with a literal name is what this looks for).
            let code = try String(contentsOf: library.appendingPathComponent(f), encoding: .utf8)
                .split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }.joined(separator: "\n")
            for word in ["isKernel", "strategy == \"", "== \"kernel\""] where code.contains(word) {
                found.append("\(f): \(word)")
            }
            if lookupAllowed.contains(f) { continue }
            for word in ["StrategyRegistry.named", "StrategyRegistry.suiteItem", "info.name =="] where code.contains(word) {
                found.append("\(f): a lookup by name (\(word))")
            }
        }
        #expect(found.isEmpty, "\(found.joined(separator: "\n"))")
    }
}
