import CSupport
import Foundation

/// `vmastress calibrate`: the host kernel's single-thread cost per anonymous
/// fault on will-it-scale's page_fault1, beside the model's on its
/// `page-fault` workload with each kind of fault work, and the `--fault-work`
/// that makes the model's cost match the kernel's; then the same for the
/// mutations (`MutationCalibration`, `--mutation-work`).
public struct Calibration: Codable, Sendable {
    /// One measurement: faults done, the seconds they took, and the median
    /// nanoseconds per fault over the repetitions.
    public struct Measure: Codable, Sendable {
        public var what: String
        public var faults: UInt64
        public var seconds: Double
        public var nsPerFault: Double
        /// Each repetition's nanoseconds per fault.
        public var repetitions: [Double]
    }

    public var kernel: Measure
    /// The model strategy measured.
    public var strategy: String
    /// The model with no fault work, with `page`, and with the suggested work.
    public var model: [String: Measure]
    /// The spin that brings the model's cost per fault to the kernel's.
    public var suggested: FaultWork
    /// The model's cost with the suggested work over the kernel's (1 is a match).
    public var ratioAfter: Double
    public var interrupted: Bool
    /// The write side: the kernel's mutations beside the model's, and the `--mutation-work`
    /// that matches them (nil in results written before it was measured).
    public var mutations: MutationCalibration?

    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    /// 128 MiB, as page_fault1 maps.
    public static let kernelBytes: UInt64 = 128 << 20

    /// The calibration that suites' `fault-work = calibrated` and `run
    /// --fault-work calibrated` take before they run: per-vma-lock (the
    /// kernel here runs per-VMA locks), 3 repetitions of 0.5 s each.
    public static func beforeRuns(say: (String) -> Void) throws -> Calibration {
        try run(strategy: "per-vma-lock", seconds: 0.5, repetitions: 3, say: say)
    }

    public static func run(strategy: String, seconds: Double, repetitions: Int,
                           say: (String) -> Void) throws -> Calibration {
        var runs: [Double] = []
        var kFaults: UInt64 = 0, kNanos: UInt64 = 0
        for _ in 0..<repetitions where vms_stop_signal() == 0 {
            var f: UInt64 = 0, ns: UInt64 = 0
            let err = vms_kernel_page_fault1(kernelBytes, 0, UInt64(seconds * 1e9), &f, &ns)
            guard err == 0 else { throw Failed(description: "kernel page_fault1: mmap failed: \(String(cString: strerror(err)))") }
            runs.append(Double(ns) / Double(f))
            kFaults += f
            kNanos += ns
        }
        guard !runs.isEmpty else { throw Failed(description: "interrupted before the kernel was measured") }
        let kernel = Measure(what: "kernel page_fault1 (4 KiB pages, THP off)", faults: kFaults,
                             seconds: Double(kNanos) / 1e9, nsPerFault: Stat(runs, higherIsBetter: false).median, repetitions: runs)
        say(line(kernel))

        var model: [String: Measure] = [:]
        /// nil when a stop signal came before the first repetition.
        func measure(_ work: FaultWork) throws -> Measure? {
            var runs: [Double] = []
            var faults: UInt64 = 0, secs = 0.0
            for rep in 0..<repetitions where vms_stop_signal() == 0 {
                var c = RunConfig(strategy: strategy, faulters: 1, mutators: 0, durationSeconds: seconds,
                                  warmupSeconds: min(0.2, seconds), seed: UInt64(rep + 1), check: .light)
                c.workload = .pageFault
                c.mix = Workload.pageFault.mix
                c.faultWork = work
                try c.validate()
                let r = try Runner.run(c)
                guard r.verdict == .success, let f = r.op(.fault), f.count > 0 else {
                    if r.verdict == .interrupted { break }
                    throw Failed(description: "the model run \(c.commandLine) ended \(r.verdict.rawValue)")
                }
                runs.append(r.measuredSeconds * 1e9 / Double(f.count))
                faults += f.count
                secs += r.measuredSeconds
            }
            guard !runs.isEmpty else { return nil }
            let m = Measure(what: "model page-fault, \(strategy), --fault-work \(work)", faults: faults, seconds: secs,
                            nsPerFault: Stat(runs, higherIsBetter: false).median, repetitions: runs)
            model[work.description] = m
            say(line(m))
            return m
        }
        // Interrupted: what was measured, without a suggestion when the bare model was not.
        guard let none = try measure(.none) else {
            return Calibration(kernel: kernel, strategy: strategy, model: model, suggested: .none, ratioAfter: 0, interrupted: true,
                               mutations: nil)
        }
        _ = try measure(.page)
        let gap = max(0, kernel.nsPerFault - none.nsPerFault)
        let suggested = gap < 1 ? FaultWork.none : .nanoseconds(UInt64(gap.rounded()))
        let after = suggested == .none ? none : try measure(suggested)
        let mutations = vms_stop_signal() != 0 ? nil : try MutationCalibration.run(seconds: min(seconds, 0.3), say: say)
        return Calibration(kernel: kernel, strategy: strategy, model: model, suggested: suggested,
                           ratioAfter: after.map { $0.nsPerFault / kernel.nsPerFault } ?? 0,
                           interrupted: vms_stop_signal() != 0 || mutations?.interrupted == true, mutations: mutations)
    }

    static func line(_ m: Measure) -> String {
        "\(m.what): \(Int(m.nsPerFault.rounded())) ns per fault (\(String(format: "%.2f", 1e3 / m.nsPerFault))M faults/s; "
            + "\(m.faults) faults in \(String(format: "%.2f", m.seconds)) s)"
    }
}
