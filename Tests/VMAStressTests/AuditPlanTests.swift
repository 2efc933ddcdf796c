import Testing
@testable import VMAStress

/// The audit plan against the invariant catalogue, and the "checked" lists it gives.
@Suite("Audit plan")
struct AuditPlanTests {
    /// Every invariant but STALL (the watchdog's, in every run) has its row; every row says
    /// how it is checked at the moments it names.
    @Test func everyInvariantHasARowThatCanReportIt() {
        let rows = AuditPlan.rows
        #expect(Set(rows.map(\.invariant)) == Set(Invariant.allCases).subtracting([.stall]))
        #expect(rows.count == Set(rows.map(\.invariant)).count, "one row an invariant")
        for row in rows {
            if row.when.contains(.checkpoint) { #expect(row.ofMM != nil || row.ofAll != nil, "\(row.invariant)") }
            // MAPPING's after-mutation check is its model, stepped with the call (timedMutation).
            if row.when.contains(.afterMutation) && row.invariant != .mapping { #expect(row.around != nil, "\(row.invariant)") }
            if row.ofMM != nil || row.ofAll != nil { #expect(row.when.contains(.checkpoint), "\(row.invariant)") }
            if row.around != nil { #expect(row.when.contains(.afterMutation), "\(row.invariant)") }
        }
    }

    @Test func theCheckedListFollowsTheRun() {
        let refcount = PerVMARefcount<MembRCU>.info.capabilities.union(StrategyEntry.stepCapabilities(PerVMARefcount<MembRCU>.self))
        let lockless = AuditPlan.Run(capabilities: refcount, check: .full, lockless: true)
        // A type-safe cache reuses records at once: no grace period for PIPE to count.
        #expect(AuditPlan.checked(lockless) == [.stable, .mapping, .uaf, .torn, .reuse, .tree, .ref, .stalePTE, .leak])
        let spf = AuditPlan.Run(capabilities: SPFRCU<MembRCU>.info.capabilities, check: .full, lockless: true)
        #expect(AuditPlan.checked(spf) == [.stable, .mapping, .uaf, .torn, .pipe, .tree, .ref, .stalePTE, .leak])
        let noFaults = AuditPlan.Run(capabilities: refcount, check: .full, lockless: false, stableFaults: false)
        #expect(AuditPlan.checked(noFaults) == [.mapping, .tree, .ref, .stalePTE, .leak], "nothing faulted, nothing judged inline")
        let locked = AuditPlan.Run(capabilities: MMapLock.info.capabilities, check: .light, lockless: false)
        #expect(AuditPlan.checked(locked) == [.stable, .tree, .ref, .stalePTE, .leak])
        let off = AuditPlan.Run(capabilities: MMapLock.info.capabilities, check: .off, lockless: false)
        #expect(AuditPlan.checked(off) == [.tree, .ref, .stalePTE, .leak], "checkpoints audit at every level")
        let kernel = AuditPlan.Run(capabilities: Kernel.info.capabilities, check: .light, lockless: false)
        #expect(AuditPlan.checked(kernel) == [.stable, .mapping])
        let kernelFaultsOnly = AuditPlan.Run(capabilities: Kernel.info.capabilities, check: .light, lockless: false, mutated: false)
        #expect(AuditPlan.checked(kernelFaultsOnly) == [.stable])
    }

    /// Each audit that runs is counted; a claim with no count is what the run's self-check fails on.
    @Test func auditsAreCountedAndAnUncountedClaimIsNamed() {
        let f = Fixture()
        defer { f.destroy() }
        _ = f.s.mmapFixed(PageRange(10, 20), prot: .read)
        var tally = Evaluations()
        #expect(AuditPlan.checkpoint([AuditPlan.MMInput(mm: f.mm, underflowsBefore: 0, model: nil)], tally: &tally).isEmpty)
        #expect(AuditPlan.afterMutation(f.mm, touched: [PageRange(10, 12)], tally: &tally).isEmpty)
        #expect(tally[.tree] == 2 && tally[.stalePTE] == 2 && tally[.ref] == 1 && tally[.leak] == 1)
        #expect(tally[.mapping] == 0, "no model: nothing compared")
        let run = AuditPlan.Run(capabilities: MMapLock.info.capabilities, check: .light, lockless: false)
        #expect(AuditPlan.unevaluated(run, tally) == [.stable])
        tally.add(.stable, 3)
        #expect(AuditPlan.unevaluated(run, tally).isEmpty)
        // The kernel backend samples its MAPPING checks: a zero there is not a claim broken.
        let kernel = AuditPlan.Run(capabilities: Kernel.info.capabilities, check: .light, lockless: false)
        #expect(AuditPlan.unevaluated(kernel, tally).isEmpty)
    }

    /// A checkpoint reports a broken index alone: the scans after it would search that index.
    @Test func aBrokenIndexEndsTheMMsAudit() {
        let f = Fixture()
        defer { f.destroy() }
        _ = f.s.mmapFixed(PageRange(10, 20), prot: .read)
        let input = AuditPlan.MMInput(mm: f.mm, underflowsBefore: 0, model: nil)
        #expect(AuditPlan.checkpoint([input]).isEmpty)
        // An orphan PTE alone is STALE-PTE; with an overlapping record beside it, TREE and nothing else.
        let gen = f.mm.list.find(10)!.gen
        f.mm.pageTable.table(for: 0).setPTE(30, PTE(gen: gen, writable: false))
        #expect(AuditPlan.checkpoint([input]).map(\.invariant) == [.stalePTE])
        let v = f.mm.allocateVMA(PageRange(15, 25), prot: .read, flags: 0, gen: 1)!
        _ = f.mm.list.insert(v)
        v.setAttached(true)
        let found = AuditPlan.checkpoint([input])
        #expect(!found.isEmpty && found.allSatisfy { $0.invariant == .tree })
        #expect(AuditPlan.afterMutation(f.mm, touched: [PageRange(15, 16)]).allSatisfy { $0.invariant == .tree })
        v.setAttached(false)
        f.mm.pageTable.table(for: 0).setPTE(30, .none)
    }
}
