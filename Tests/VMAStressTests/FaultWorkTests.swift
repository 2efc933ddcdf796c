import Foundation
import Testing
@testable import VMAStress

/// `--fault-work` and `vmastress calibrate`: the model's fault given the
/// size of a kernel fault, measured against the host kernel.
@Suite("Fault work and calibration", .serialized)
struct FaultWorkTests {
    @Test func parsesWhatUsersWrite() throws {
        #expect(try FaultWork(parsing: "none") == .none)
        #expect(try FaultWork(parsing: "page") == .page)
        #expect(try FaultWork(parsing: "250ns") == .nanoseconds(250))
        #expect(try FaultWork(parsing: "1.5us") == .nanoseconds(1500))
        #expect(try FaultWork(parsing: "0ns") == .none)
        for bad in ["", "heavy", "5ms", "2000us", "-1ns", "nan ns", "ns"] {
            #expect(throws: FaultWork.Invalid.self) { try FaultWork(parsing: bad) }
        }
        for w in [FaultWork.none, .page, .nanoseconds(1234)] {
            let data = try JSONEncoder().encode([w])
            #expect(try JSONDecoder().decode([FaultWork].self, from: data) == [w])
            #expect(try FaultWork(parsing: w.description) == w)
        }
    }

    @Test(arguments: [FaultWork.page, .nanoseconds(300)])
    func aRunWithFaultWorkIsCleanAndSaysSo(_ work: FaultWork) throws {
        var c = RunConfig(strategy: "per-vma-lock", faulters: 2, mutators: 1, durationSeconds: 1, warmupSeconds: 0.1, seed: 5)
        c.faultWork = work
        try c.validate()
        let r = try Runner.run(c)
        #expect(r.verdict == .success, "\(r.violations.map(\.text))")
        #expect(r.reproduce.contains("--fault-work \(work)"))
        #expect(r.faultOutcomes["installed"] ?? 0 > 0)
        FaultWork.none.install(nsPerTick: 1)
    }

    @Test func suitesTakeAFaultWorkOrCalibrated() throws {
        let s = try Suite.parse("fault-work = page\nstrategies = mmap-lock\n", file: "x.suite", name: "x")
        #expect(try s.config(strategy: "mmap-lock", workload: .init(.pageFault), threads: 1, repetition: 0).faultWork == .page)
        let c = try Suite.parse("fault-work = calibrated\nstrategies = mmap-lock\n", file: "x.suite", name: "x")
        #expect(c.faultWork == "calibrated")
        #expect(throws: Suite.ParseError.self) { try Suite.parse("fault-work = heavy\n", file: "x.suite", name: "x") }
        for shipped in ["default", "scaling", "mixes"] {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            let text = try String(contentsOf: root.appendingPathComponent("bench/suites/\(shipped).suite"), encoding: .utf8)
            #expect(try Suite.parse(text, file: shipped, name: shipped).faultWork == "calibrated", "\(shipped).suite")
        }
    }

    /// The kernel side is the host's own page faults; the suggestion closes the gap.
    @Test func calibrationMeasuresTheKernelAndTheModel() throws {
        let c = try Calibration.run(strategy: "mmap-lock", seconds: 0.1, repetitions: 1) { _ in }
        #expect(c.kernel.faults >= 32768 && c.kernel.nsPerFault > 0)
        #expect(c.model["none"] != nil && c.model["page"] != nil)
        if case let .nanoseconds(n) = c.suggested {
            #expect(Double(n) <= c.kernel.nsPerFault)
            #expect(c.model[c.suggested.description] != nil)
        }
        #expect(c.ratioAfter > 0)
    }
}
