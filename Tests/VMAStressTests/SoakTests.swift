import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import VMAStress

@Suite("Soak: phases, RSS judge, JUnit")
struct SoakTests {
    let plan = SoakPlan(seed: 77, strategies: StrategyRegistry.correct, phaseSeconds: 10)

    @Test func phasesDependOnlyOnTheSeedAndAreValidRuns() throws {
        for i in 0..<60 {
            let c = plan.phase(i, seconds: 10, cores: 2)
            #expect(c == plan.phase(i, seconds: 10, cores: 2))
            #expect(c.strategy == plan.strategies[i % plan.strategies.count])
            try c.validate()
        }
        let shapes = Set((0..<60).map { plan.phase($0, seconds: 1, cores: 2).workers })
        #expect(shapes.contains(16), "8 threads per core on 2 cores: \(shapes)")
        let perturbed = (0..<60).map { plan.phase($0, seconds: 1, cores: 2).perturbation }
        #expect(perturbed.contains { $0.stutterSeconds > 0 } && perturbed.contains { $0.shuffleSeconds > 0 })
        #expect(perturbed.contains { $0.longReads } && perturbed.contains { $0.writerBursts })
        #expect(perturbed.contains { $0.preempt == .off } && perturbed.contains { $0.preempt == .auto })
        #expect(Set((0..<60).map { plan.phase($0, seconds: 1, cores: 2).workload }).count == Workload.soakDefault.count)
        let mms = (0..<60).map { plan.phase($0, seconds: 1, cores: 2) }.filter { $0.mms > 1 }
        #expect(mms.contains { $0.lockstep } && mms.contains { !$0.lockstep }, "\(mms.count) phases with several mms")
    }

    @Test func aPhaseCommandLineRebuildsThePhase() throws {
        let c = plan.phase(5, seconds: 7, cores: 2)
        for word in ["--strategy \(c.strategy)", "--seed \(c.seed)", "--faulters \(c.faulters)", "--duration 7s"] {
            #expect(c.commandLine.contains(word))
        }
        if c.workload != .stress { #expect(c.commandLine.contains("--workload \(c.workload.rawValue)")) }
        for w in c.perturbation.commandLineWords { #expect(c.commandLine.contains(w)) }
    }

    @Test func theJudgeCallsSteadyClimbingGrowthAndNothingElse() {
        let mib = 1024
        let flat = [40, 41, 40, 42, 41, 40, 41, 42, 40].map { $0 * mib }
        #expect(!RSSVerdict.judge(afterPhasesKiB: flat, warmupPhases: 0, limitKiB: 16 * mib).growing)
        let oneBigPhase = [40, 41, 90, 41, 40, 41, 42, 40, 41].map { $0 * mib }
        #expect(!RSSVerdict.judge(afterPhasesKiB: oneBigPhase, warmupPhases: 0, limitKiB: 16 * mib).growing)
        let lateStep = [51, 51, 52, 52, 53, 53, 54, 79, 78, 81].map { $0 * mib }
        let step = RSSVerdict.judge(afterPhasesKiB: lateStep, warmupPhases: 0, limitKiB: 16 * mib)
        #expect(!step.growing && step.reason.contains("one step"), "\(step.reason)")
        let leak = (0..<12).map { (40 + 4 * $0) * mib }
        let v = RSSVerdict.judge(afterPhasesKiB: leak, warmupPhases: 3, limitKiB: 16 * mib)
        #expect(v.judged && v.growing, "\(v.reason)")
        #expect(!RSSVerdict.judge(afterPhasesKiB: Array(leak.prefix(5)), warmupPhases: 0, limitKiB: mib).judged)
    }

    /// The sampler reads the real RSS: memory this test holds and touches shows as growth.
    /// Fresh anonymous pages, not malloc: a malloc may be served from free
    /// heap memory earlier tests left resident, which adds nothing to RSS.
    @Test func realHeldMemoryShowsAsGrowth() {
        let size = 8 << 20
        var held: [UnsafeMutableRawPointer] = []
        defer { held.forEach { munmap($0, size) } }
        var after: [Int] = []
        for _ in 0..<9 {
            let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)!
            #expect(p != MAP_FAILED)
            memset(p, 1, size)
            held.append(p)
            after.append(RSS.settledKiB())
        }
        let v = RSSVerdict.judge(afterPhasesKiB: after, warmupPhases: 0, limitKiB: 16 * 1024)
        #expect(v.growing, "\(v.reason)")
    }

    @Test func junitIsWellFormedAndCarriesTheReproducer() throws {
        let c = plan.phase(1, seconds: 2, cores: 2)
        var failed = SoakPhaseResult(
            phase: 1, strategy: c.strategy, workload: c.workload, faulters: c.faulters, mutators: c.mutators,
            index: c.index ?? .rbtree, rcuFlavor: nil, perturbations: [], seed: c.seed, verdict: .failure,
            startedAtSeconds: 0, wallSeconds: 2, faults: 1, mutations: 1, checkpoints: 1, stutters: 0, shuffles: 0,
            violationCount: 1, violations: [], reproduce: c.commandLine + " <&\"'>", rssAfterKiB: 1)
        var passed = failed
        passed.verdict = .success
        passed.phase = 0
        failed.violationCount = 1
        let result = SoakResult(
            tool: "t", createdAt: "now", machine: .current(), plan: plan, durationSeconds: 4, verdict: .failure,
            interruptedBy: nil, elapsedSeconds: 4, startLine: "--- Start of test: x", endLine: "--- End of test: FAILURE",
            totals: SoakTotals(), phases: [passed, failed], failures: ["phase 1"],
            rss: RSSReport(limitKiB: 1, peakKiB: 1, samples: [],
                           verdict: RSSVerdict.judge(afterPhasesKiB: [], warmupPhases: 0, limitKiB: 1)))
        let xml = JUnit.xml(result)
        let parser = XMLParser(data: Data(xml.utf8))
        #expect(parser.parse(), "\(String(describing: parser.parserError))")
        #expect(xml.contains("tests=\"3\" failures=\"1\""))
        #expect(xml.contains("reproduce: vmastress run --strategy \(c.strategy)"))
        #expect(xml.contains("&lt;&amp;&quot;&apos;&gt;"))
        // The file written between phases: an error case, never a pass.
        var unfinished = result
        unfinished.verdict = .incomplete
        unfinished.phases = [passed]
        let partial = JUnit.xml(unfinished)
        #expect(XMLParser(data: Data(partial.utf8)).parse())
        #expect(partial.contains("errors=\"1\"") && partial.contains("name=\"soak finished\"") && partial.contains("<error type=\"INCOMPLETE\""))
        #expect(!xml.contains("soak finished"))
    }
}
