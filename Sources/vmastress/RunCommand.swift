import ArgumentParser
import CSupport
import Foundation
import Glibc
import VMAStress

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one or more strategies on the same workload, with the checker on.",
        discussion: """
            Prints a results table per strategy and a final '--- End of test: SUCCESS|FAILURE' line. \
            With several strategies (comma-separated) they run one after another on the same \
            workload and seed, and a comparison table follows. With --repetitions N each runs N \
            times, interleaved (every strategy forward, then backward: drift on a shared machine \
            lands on all alike), repetition r with seed + r; later repetitions print one line each \
            (a failing one its whole report), and the comparison shows each strategy's median, the \
            spread of its repetitions, and its ratio to the first with a 95% interval.
            Fault latency is sampled (one fault in --sample-every); every mutation is timed. \
            ops/s divide by the measured window less checkpoint pauses.
            """)

    @Option(help: "Strategy name, or several separated by commas ('vmastress strategies --busted' lists them), or 'correct': every correct strategy that runs any number of threads, and the kernel.")
    var strategy = "mmap-lock"

    @Option(parsing: .unconditional, help: "Fault threads.")
    var faulters = 2

    @Option(parsing: .unconditional, help: "Mutator threads (mmap, munmap, mprotect, mremap, take-all-locks); default: 1, or 0 for page-fault and ebizzy.")
    var mutators: Int?

    @Option(help: "Workload preset: \(Workload.allCases.map(\.rawValue).joined(separator: ", ")) ('vmastress workloads' describes them).")
    var workload: Workload = .stress

    @Option(help: "Op-mix settings on top of the workload, like mmap=10,munmap=10,hot=0 (keys: \(OpMix.specKeys.map(\.key).joined(separator: ", "))).")
    var mix: String?

    @Option(parsing: .unconditional, help: "Measured duration, like 500ms, 10s, 2m.")
    var duration = "5s"

    @Option(parsing: .unconditional, help: "Warm-up before measuring.")
    var warmup = "1s"

    @Option(parsing: .unconditional, help: "Seed for every thread's RNG (default: chosen from the clock and printed); repetition r uses seed + r.")
    var seed: UInt64?

    @Option(parsing: .unconditional, help: "Run every strategy this many times (1 to 100), interleaved: all of them forward, then backward, and so on; the comparison gives each ratio a 95% interval from the repetitions paired by seed.")
    var repetitions = 1

    @Option(help: "Write results as JSON to this file (atomically; schema in docs/results-schema.md).")
    var json: String?

    @Option(parsing: .unconditional, help: "Time between checkpoints (all workers parked, full audits); 0 turns them off.")
    var checkpointInterval = "1s"

    @Option(parsing: .unconditional, help: "Report a stall (with a thread dump) when a worker makes no progress, or does not reach a checkpoint, within this.")
    var stallTimeout = "10s"

    @Option(parsing: .unconditional, help: "Time one fault in this many (a power of two).")
    var sampleEvery = 64

    @Flag(help: "Count every violation instead of stopping at the first.")
    var keepGoing = false

    @Option(parsing: .unconditional, help: "Pages in the stable region (mapped read-write, never changed).")
    var stablePages: UInt64 = Layout().stablePages

    @Option(parsing: .unconditional, help: "Pages in the never-mapped guard region.")
    var guardPages: UInt64 = Layout().guardPages

    @Option(parsing: .unconditional, help: "Pages in the churn region, where mutators work (default: \(Layout().churnPages), or 128 MiB and two page tables per faulter for will-it-scale's testcases).")
    var churnPages: UInt64?

    @Option(parsing: .unconditional, help: "Start with N one-page VMAs spread evenly over the churn region, protections alternating so none merge (1 to 1000000; the churn region grows to 4 pages each unless --churn-pages is given). Default: the workload's random fill.")
    var vmas: Int?

    @Option(parsing: .unconditional, help: "Largest mutation, in pages (default: the workload's; the same as --mix max-pages=N).")
    var maxOpPages: UInt64?

    @Option(parsing: .unconditional, help: "Percent of faults that write (default: the workload's; the same as --mix write=N).")
    var writePercent: UInt64?

    @Option(parsing: .unconditional, help: "Stutter: every this long, park all workers for a fifth of it (0: off).")
    var stutter = "0s"

    @Option(parsing: .unconditional, help: "Shuffle: every this long, move the workers off one CPU in turn, then back onto all (0: off).")
    var shuffle = "0s"

    @Flag(help: "Long read sections: one fault in 16384 spins 100 µs inside its read section, one in 65536 sleeps 1 ms there.")
    var longReads = false

    @Flag(help: "Writer bursts: mutators run 64 to 1023 operations back to back, then pause 1 to 20 ms.")
    var writerBursts = false

    @Option(parsing: .unconditional, help: "CPU hogs: N threads spin beside the workers at normal priority, so workers are preempted inside their windows (0 to \(Perturbation.maxHogs)).")
    var hogs = 0

    @Option(parsing: .unconditional, help: "Preemptions injected into the workers without outside load: a timer stops each worker wherever it is, after a random stretch of this mean time, and holds it there (spins 2-30 µs, yields, or sleeps 20-200 µs). auto: every \(Preempt.every(meanNanos: Preempt.defaultMeanNanos)) under --check full, off otherwise; off; or a mean such as 100us (\(Preempt.shortestMeanNanos / 1000)us to 10s).")
    var preempt = "auto"

    @Option(help: "Run worker threads only on these CPUs (a list like 0-3,6).")
    var cpus: String?

    @Option(parsing: .unconditional, help: "Run faulters on this NUMA node's CPUs.")
    var faultersNode: Int?

    @Option(parsing: .unconditional, help: "Run mutators on this NUMA node's CPUs.")
    var mutatorsNode: Int?

    @Option(parsing: .unconditional, help: "Run the checker thread on this CPU.")
    var checkerCPU: Int?

    @Option(help: "Within its role's CPUs, a thread may use them all (none), takes one, node by node (compact), or one, nodes in turn (scatter).")
    var pin: PinPolicy = .none

    @Option(parsing: .unconditional, help: "Put VMA records, the index and page tables on NUMA node N, on the allocating thread's node (local), or interleave them.")
    var memNode: String?

    @Option(help: "Lookup tree: rbtree or btree (default: the strategy's own; 'vmastress strategies' lists which each allows).")
    var index: IndexKind?

    @Option(help: "liburcu flavor for strategies whose readers use RCU (spf-rcu, per-vma-lock): memb, qsbr, mb, signal, bp.")
    var rcuFlavor: RCUFlavorKind?

    @Option(help: "Checking while measuring: full (inline checks, torture delays and injected preemption, audit after every mutation, checkpoints), light (inline checks and checkpoints: for benchmarks), off (only the final audit). Several, comma-separated, run side by side.")
    var check = "full"

    @Option(parsing: .unconditional, help: "Work a fault does when it installs a new PTE, before the PTL: none (cheap faults: the most races a second), page (clear a real 4 KiB page, as the kernel does), a time such as 250ns, or calibrated (measure this machine's kernel first and use the time that matches it, as 'vmastress calibrate' does; about 10 s). Several, comma-separated, run side by side.")
    var faultWork = "none"

    @Option(parsing: .unconditional, help: "Work a model mutation does besides the model's own steps, per system call: none; KIND=TIME pairs, comma-separated, KIND one of map, unmap, protect, remap (spun inside mmap_lock, before unlock) and syscall (the entry and exit, spun before the lock); or calibrated (measured against this machine's kernel first, as 'vmastress calibrate' does).")
    var mutationWork = "none"

    @Option(parsing: .unconditional, help: "Operations a second each mutator starts, sleeping between them (a program whose mmaps are a share of its work); 0: flat out.")
    var mutationRate = 0.0

    @Flag(help: "Run each faulter of the kernel backend in a process of its own (will-it-scale's processes mode: no shared mm); for workloads whose faulters map one region of their own, such as page_fault1. Model strategies listed beside it run threads.")
    var processes = false

    @Option(help: "Model address spaces (processes) sharing one VMA cache, as the kernel's VMAs share vm_area_cachep; faulters and mutators are dealt to them in turn (an mm left without a worker keeps its mappings, as a sleeping process). Model strategies only: 'kernel' beside them runs in this process's mm.")
    var mms = 1

    @Flag(help: "Beside the run's mms, a thread creates short-lived mms that map, touch and exit (every VMA unmapped and freed, the mm destroyed at its last mmdrop), so VMA memory moves between mms.")
    var mmChurn = false

    @Flag(help: "With --mms 2 or more: each mutator makes every mutation in every mm in turn, so the mms stay copies of one another (one program's forked copies, in step): a record one mm frees is taken next by another making the same change.")
    var lockstep = false

    @Option(parsing: .unconditional, help: "Print a stat line (ops so far, violations, backlog, reader pipe) this often while measuring; 0: never.")
    var statInterval = "0s"

    func parsedPreempt() throws -> Preempt {
        do { return try Preempt(parsing: preempt) } catch { throw ValidationError("\(error)") }
    }

    func placement() throws -> PlacementRequest {
        var p = PlacementRequest()
        p.cpus = try cpus.map { try CPUList.parse($0) }
        p.faultersNode = faultersNode
        p.mutatorsNode = mutatorsNode
        p.checkerCPU = checkerCPU
        p.pin = pin
        p.memory = try memNode.map { try MemoryPolicy(parsing: $0) } ?? .system
        return p
    }

    /// `calibrated`: the fault work `vmastress calibrate` suggests, measured before the run (nil until it is).
    func configs(seed: UInt64, calibrated: FaultWork? = nil, calibratedMutations: MutationWork? = nil) throws -> [RunConfig] {
        var names = strategy.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: .whitespaces) }
        guard !names.isEmpty, !names.contains("") else { throw ValidationError("--strategy needs a name") }
        if names == ["correct"] { names = Self.correctStrategies }
        var layout = Layout.sized(for: workload, faulters: faulters).holding(vmas: vmas)
        layout.stablePages = stablePages
        layout.guardPages = guardPages
        if let churnPages { layout.churnPages = churnPages }
        var mix = workload.mix
        if let maxOpPages { mix.maxMutationPages = maxOpPages }
        if let writePercent { mix.faultWritePercent = writePercent }
        if let spec = self.mix { try mix.apply(spec: spec) }
        let perturbation = Perturbation(stutterSeconds: try DurationText.seconds(stutter),
                                        shuffleSeconds: try DurationText.seconds(shuffle),
                                        longReads: longReads, writerBursts: writerBursts, hogs: hogs,
                                        preempt: try parsedPreempt())
        let entries = names.compactMap(StrategyRegistry.named)
        if rcuFlavor != nil && !entries.contains(where: { $0.info.usesRCU }) {
            throw ValidationError("--rcu-flavor applies to strategies whose readers use RCU ("
                + StrategyRegistry.all.filter(\.info.usesRCU).map(\.info.name).joined(separator: ", ") + "); none is listed")
        }
        if processes && !entries.contains(where: { $0.capabilities.contains(.processes) }) {
            throw ValidationError("--processes runs a backend's faulters in processes of their own; list one that can ("
                + StrategyRegistry.correct.filter { $0.capabilities.contains(.processes) }.map(\.info.name).joined(separator: ", ") + ") in --strategy")
        }
        let modelOnly = [("--mms \(mms)", mms != 1), ("--mm-churn", mmChurn), ("--lockstep", lockstep)].filter(\.1).map(\.0)
        if !modelOnly.isEmpty && !entries.contains(where: { $0.capabilities.contains(.severalMMs) }) {
            throw ValidationError("\(modelOnly.joined(separator: ", ")) shapes the model's address spaces; 'kernel' runs in this process's own mm, so list a model strategy beside it")
        }
        let levels = try check.split(separator: ",").map { word in
            guard let level = CheckLevel(rawValue: String(word)) else {
                throw ValidationError("unknown --check level '\(word)': full, light or off")
            }
            return level
        }
        guard !levels.isEmpty else { throw ValidationError("--check needs a level: full, light or off") }
        let works = try faultWork.split(separator: ",", omittingEmptySubsequences: false).map { word in
            if word == "calibrated" { return calibrated ?? .none }
            do { return try FaultWork(parsing: String(word)) } catch { throw ValidationError("\(error), or calibrated") }
        }
        let mutationWork: MutationWork
        if self.mutationWork == "calibrated" {
            mutationWork = calibratedMutations ?? .none
        } else {
            do { mutationWork = try MutationWork(parsing: self.mutationWork) } catch { throw ValidationError("\(error)") }
        }
        return try names.flatMap { name in try levels.flatMap { level in try works.map { work in
            var c = RunConfig(
                strategy: name, faulters: faulters, mutators: mutators ?? workload.defaultMutators,
                durationSeconds: try DurationText.seconds(duration), warmupSeconds: try DurationText.seconds(warmup),
                seed: seed, checkpointIntervalSeconds: try DurationText.seconds(checkpointInterval),
                stallTimeoutSeconds: try DurationText.seconds(stallTimeout), faultSampleEvery: sampleEvery,
                keepGoing: keepGoing, layout: layout, mix: mix, placement: try placement(),
                index: index, rcuFlavor: rcuFlavor ?? .memb, check: level)
            c.statIntervalSeconds = try DurationText.seconds(statInterval)
            c.workload = workload
            c.perturbation = perturbation
            c.faultWork = work
            c.mutationWork = mutationWork
            c.mutationRate = mutationRate
            // A backend without model mms (the kernel's) runs in this process's own (--processes makes several).
            let can = StrategyRegistry.named(name)?.capabilities ?? []
            c.mms = can.contains(.severalMMs) ? mms : 1
            c.mmChurn = mmChurn && can.contains(.severalMMs)
            c.lockstep = lockstep && can.contains(.severalMMs)
            c.vmas = vmas
            // Beside model strategies (whose workers share one model mm), only a backend with processes runs in them.
            c.processes = processes && can.contains(.processes)
            try c.validate()
            return c
        } } }
    }

    func validate() throws {
        if ParsePass.skipsChecks { return }
        guard (1...100).contains(repetitions) else {
            throw ValidationError("--repetitions must be between 1 and 100 (got \(repetitions))")
        }
        try usageChecks {
            _ = try configs(seed: 0)
            if let json { try AtomicFile.checkWritable(json) }
        }
    }

    /// `--strategy correct`: every correct strategy that runs any number of threads, the kernel last.
    static var correctStrategies: [String] {
        StrategyRegistry.correct.filter { $0.info.maxWorkers == nil }.map(\.info.name)
    }

    func run() throws {
        let seed = self.seed ?? UInt64(Clock.nanos() % 1_000_000_007)
        vms_install_stop_signals()
        var calibrated: FaultWork?
        var calibratedMutations: MutationWork?
        if faultWork.split(separator: ",").contains("calibrated") || mutationWork == "calibrated" {
            Console.out("calibrating the fault and mutation work against this machine's kernel (vmastress calibrate)")
            let c: Calibration
            do {
                c = try Calibration.beforeRuns(say: { Console.out("  " + $0) })
            } catch {
                throw Exit(status: ExitStatus.runtime, message: "\(error)")
            }
            if c.interrupted { throw Exit(status: ExitStatus.interrupted(by: vms_stop_signal()), message: "interrupted while calibrating; nothing was run") }
            calibrated = c.suggested
            calibratedMutations = c.mutations?.suggested
            Console.out("fault work: \(c.suggested); mutation work: \(calibratedMutations ?? .none)\n")
        }
        let configs = try self.configs(seed: seed, calibrated: calibrated, calibratedMutations: calibratedMutations)
        var groups = configs.map { _ in [RunResult]() }
        var results: [RunResult] = []
        let write = {
            try writeResults(ResultsFile(tool: "vmastress \(VMAStressCommand.configuration.version)",
                                         createdAt: ISO8601DateFormatter().string(from: Date()),
                                         machine: .current(), runs: results), to: json)
        }
        repetitions: for rep in 0..<repetitions {
            // Forward in even repetitions, backward in odd ones.
            for i in rep % 2 == 0 ? Array(configs.indices) : configs.indices.reversed() {
                var config = configs[i]
                config.seed = seed &+ UInt64(rep)
                let result: RunResult
                do {
                    result = try Runner.run(config)
                } catch {
                    // What finished is kept.
                    if !results.isEmpty { try write() }
                    throw Exit(status: ExitStatus.runtime, message: "\(error)")
                }
                if rep == 0 || result.verdict != .success {
                    if !results.isEmpty { Console.out("") }
                    Console.out(TextReport.render(result))
                } else {
                    Console.out("repetition \(rep + 1)/\(repetitions): \(result.strategy), seed \(config.seed): "
                        + "\(TextReport.human(result.countedOpsPerSecond)) \(config.workload.spec.counted.rawValue) ops/s, \(result.verdict.rawValue)")
                }
                results.append(result)
                groups[i].append(result)
                if result.verdict == .interrupted { break repetitions }
            }
        }
        let measured = groups.filter { !$0.isEmpty }
        if measured.count > 1 || (measured.first?.count ?? 0) > 1 { Console.out("\n" + BenchReport.runComparison(measured)) }
        try write()
        if results.contains(where: { $0.verdict == .failure }) { throw Exit(status: ExitStatus.violation, message: nil) }
        let signal = vms_stop_signal()
        if signal != 0 { throw Exit(status: ExitStatus.interrupted(by: signal), message: nil) }
    }
}

extension PinPolicy: ExpressibleByArgument {}
extension IndexKind: ExpressibleByArgument {}
extension RCUFlavorKind: ExpressibleByArgument {}
extension Workload: ExpressibleByArgument {}
