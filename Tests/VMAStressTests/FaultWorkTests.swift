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
        let m = try Suite.parse("mutation-work = map=1us\nstrategies = mmap-lock\n", file: "x.suite", name: "x")
        #expect(try m.config(strategy: "mmap-lock", workload: .init(.pageFault), threads: 1, repetition: 0).mutationWork?[.map] == 1000)
        #expect(throws: Suite.ParseError.self) { try Suite.parse("mutation-work = zap=1us\n", file: "x.suite", name: "x") }
        for shipped in ["default", "scaling", "mixes"] {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            let text = try String(contentsOf: root.appendingPathComponent("bench/suites/\(shipped).suite"), encoding: .utf8)
            let suite = try Suite.parse(text, file: shipped, name: shipped)
            #expect(suite.faultWork == "calibrated" && suite.mutationWork == "calibrated", "\(shipped).suite")
        }
    }

    @Test func mutationWorkParsesWhatUsersWrite() throws {
        #expect(try MutationWork(parsing: "none") == .none)
        let w = try MutationWork(parsing: "map=1.5us, unmap=2000ns,syscall=90ns")
        #expect(w[.map] == 1500 && w[.unmap] == 2000 && w[.syscall] == 90 && w[.protect] == 0)
        #expect(w.description == "map=1500ns,unmap=2000ns,syscall=90ns")
        #expect(try MutationWork(parsing: "map=0ns") == .none)
        for bad in ["", "lots", "map", "map=", "map=page", "zap=1us", "map=1us,map=2us", "map=5ms", "map=1us,"] where bad != "" {
            #expect(throws: MutationWork.Invalid.self, "\(bad)") { try MutationWork(parsing: bad) }
        }
        for work in [MutationWork.none, w] {
            let data = try JSONEncoder().encode([work])
            #expect(try JSONDecoder().decode([MutationWork].self, from: data) == [work])
            #expect(try MutationWork(parsing: work.description) == work)
        }
    }

    /// The spin is a floor under every mmap's time inside the lock (not a speed claim: a
    /// spin of 200 µs cannot take less), and the reproducer carries it.
    @Test func aRunWithMutationWorkSpinsItAndSaysSo() throws {
        var c = RunConfig(strategy: "mmap-lock", faulters: 1, mutators: 1, durationSeconds: 0.5, warmupSeconds: 0.1, seed: 5)
        c.mutationWork = try MutationWork(parsing: "map=200us,unmap=200us,protect=200us,remap=200us")
        try c.validate()
        let r = try Runner.run(c)
        MutationWork.none.install(nsPerTick: 1)
        #expect(r.verdict == .success, "\(r.violations.map(\.text))")
        #expect(r.reproduce.contains("--mutation-work map=200000ns,unmap=200000ns,protect=200000ns,remap=200000ns"))
        let mmap = try #require(r.op(.mmap))
        #expect(mmap.count > 0 && mmap.latencyNs.p50 >= 190_000, "\(mmap.latencyNs)")
        var k = RunConfig(strategy: "kernel", faulters: 1, mutators: 1, durationSeconds: 0.2, warmupSeconds: 0.1, seed: 5)
        k.mutationWork = c.mutationWork
        #expect(try k.resolve().config.mutationWork == nil, "the kernel's mutations cost what they cost")
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
        let m = try #require(c.mutations, "the write side is calibrated too")
        for kind in ["map", "unmap", "protect", "remap", "syscall"] { #expect(m.kernel[kind] ?? 0 > 0, "\(kind)") }
        for kind in ["map", "unmap", "protect", "remap"] { #expect(m.model[kind] ?? 0 > 0 && m.after[kind] ?? 0 > 0, "\(kind)") }
        #expect(m.suggested[.syscall] > 0)
    }
}
