import Foundation
import Testing
@testable import VMAStress

@Suite("Injected preemption (--preempt)")
struct PreemptTests {
    @Test func parsesWhatTheOptionTakes() throws {
        #expect(try Preempt(parsing: "auto") == .auto)
        #expect(try Preempt(parsing: "off") == .off)
        #expect(try Preempt(parsing: "0") == .off)
        #expect(try Preempt(parsing: "200us") == .every(meanNanos: 200_000))
        #expect(try Preempt(parsing: "1ms") == .every(meanNanos: 1_000_000))
        for bad in ["", "often", "1us", "19us", "11s", "-5us", "nan"] {
            #expect(throws: Preempt.Invalid.self, "\(bad)") { try Preempt(parsing: bad) }
        }
    }

    @Test func spellsItselfAsItParses() throws {
        for p in [Preempt.auto, .off, .every(meanNanos: 50_000), .every(meanNanos: 1_500_500)] {
            #expect(try Preempt(parsing: p.description) == p)
        }
    }

    @Test func autoIsOnOnlyUnderFullChecks() {
        #expect(Preempt.auto.meanNanos(checkingFully: true) == Preempt.defaultMeanNanos)
        #expect(Preempt.auto.meanNanos(checkingFully: false) == 0)
        #expect(Preempt.off.meanNanos(checkingFully: true) == 0)
        #expect(Preempt.every(meanNanos: 80_000).meanNanos(checkingFully: false) == 80_000)
    }

    /// A reproducer says only what differs from the default; a results file from before
    /// --preempt existed reads as off (those runs had none).
    @Test func commandLineAndOlderResults() throws {
        #expect(Perturbation().commandLineWords.isEmpty)
        #expect(Perturbation(preempt: .off).commandLineWords == ["--preempt off"])
        let old = #"{"stutterSeconds":0,"shuffleSeconds":0,"longReads":false,"writerBursts":false,"hogs":0}"#
        #expect(try JSONDecoder().decode(Perturbation.self, from: Data(old.utf8)).preempt == .off)
        let now = try JSONEncoder().encode(Perturbation(preempt: .every(meanNanos: 100_000)))
        #expect(try JSONDecoder().decode(Perturbation.self, from: now).preempt == .every(meanNanos: 100_000))
    }

    /// The workers were stopped, and counted: under --check full by default, never under light.
    @Test func aFullRunIsPreemptedAndALightOneIsNot() throws {
        var c = RunConfig(strategy: "spf-rcu", faulters: 1, mutators: 1, durationSeconds: 0.5, warmupSeconds: 0, seed: 3)
        let full = try Runner.run(c)
        #expect(full.verdict == .success, "\(full.violations.map(\.text))")
        let counts = try #require(full.perturbations?.preemptions)
        #expect(counts.spins > 0 && counts.yields + counts.sleeps > 0, "\(counts)")
        c.check = .light
        #expect(try Runner.run(c).perturbations?.preemptions == nil)
    }
}
