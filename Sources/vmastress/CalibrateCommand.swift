import ArgumentParser
import CSupport
import Foundation
import VMAStress

struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Measure this machine's kernel and the model on page_fault1 and on mmap, munmap, mprotect and mremap, one thread, and print the --fault-work and --mutation-work that make their costs match.",
        discussion: """
            The kernel: will-it-scale's page_fault1 on the host (mmap 128 MiB private anonymous with THP off, \
            write one byte per page, munmap, again). The model: the page-fault workload on one faulter with \
            --fault-work none, page and the suggested time. Each is the median of the repetitions. \
            Then the mutations: each system call of will-it-scale's mmap1 (mmap 128 MiB, munmap it), an \
            mprotect that splits or merges, an mremap that moves one page, and getppid (the entry and exit \
            alone), timed one by one on the kernel and on the model's per-vma-refcount (the design this kernel runs); --mutation-work is the \
            difference, the entry and exit spun before mmap_lock and the rest inside it.
            """)

    @Option(help: "The model strategy to measure (the kernel here runs per-VMA locks).")
    var strategy = "per-vma-lock"

    @Option(parsing: .unconditional, help: "Time for each repetition of each measurement.")
    var duration = "1s"

    @Option(parsing: .unconditional, help: "Repetitions of each measurement (the median is used).")
    var repetitions = 3

    @Option(help: "Write the measurements as JSON to this file.")
    var json: String?

    func validate() throws {
        if ParsePass.skipsChecks { return }
        try usageChecks {
            guard (1...20).contains(repetitions) else { throw ValidationError("--repetitions must be between 1 and 20 (got \(repetitions))") }
            let s = try DurationText.seconds(duration)
            guard s >= 0.05, s <= 60 else { throw ValidationError("--duration must be between 50ms and 60s") }
            guard let e = StrategyRegistry.named(strategy), !e.info.isBusted, !e.capabilities.contains(.ownsFaultWork) else {
                throw ValidationError("--strategy must name a model strategy ('vmastress strategies' lists them); got '\(strategy)'")
            }
            if let json { try AtomicFile.checkWritable(json) }
        }
    }

    func run() throws {
        vms_install_stop_signals()
        let c: Calibration
        do {
            c = try Calibration.run(strategy: strategy, seconds: try DurationText.seconds(duration),
                                    repetitions: repetitions) { Console.out($0) }
        } catch {
            let signal = vms_stop_signal()
            throw Exit(status: signal != 0 ? ExitStatus.interrupted(by: signal) : ExitStatus.runtime, message: "\(error)")
        }
        if c.interrupted {
            Console.out("interrupted: " + (c.model["none"] == nil ? "no suggestion (the model was not measured)"
                                                                      : "suggested --fault-work \(c.suggested), not checked"))
        } else {
            Console.out("suggested: --fault-work \(c.suggested) (the model's cost with it is \(String(format: "%.2f", c.ratioAfter))x the kernel's)")
            if let m = c.mutations { Console.out("suggested: --mutation-work \(m.suggested)") }
        }
        try writeResults(c, to: json)
        let signal = vms_stop_signal()
        if signal != 0 { throw Exit(status: ExitStatus.interrupted(by: signal), message: nil) }
    }
}
