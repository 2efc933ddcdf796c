import Foundation

/// The human-readable results: a header, the per-op table, fault outcomes,
/// resources, the checker's verdict, and every violation in full.
public enum TextReport {
    public static func render(_ r: RunResult) -> String {
        let c = r.config
        let can = r.capabilities ?? .model
        var out: [String] = []
        out.append("vmastress run: strategy \(r.strategy) on \((r.index ?? c.index ?? .rbtree).rawValue)"
            + (can.contains(.usesRCU) ? " (rcu \(c.rcuFlavor.rawValue))" : "")
            + ", \(c.faulters) faulter\(c.processes ? " process(es)" : "(s)"), \(c.mutators) mutator(s), "
            + "\(DurationText.format(c.durationSeconds)) after \(DurationText.format(c.warmupSeconds)) warm-up, seed \(c.seed), check \(c.check.rawValue)"
            + (can.contains(.ownsFaultWork) ? ""
                : (c.faultWork == .none ? ", fault work none (cheap faults: --fault-work)" : ", fault work \(c.faultWork)")
                    + (c.mutationWork.map { ", mutation work \($0)" } ?? "")))
        let mixSpec = c.mix.spec(from: c.workload.mix)
        out.append("workload \(c.workload.rawValue)" + (mixSpec.isEmpty ? "" : ", mix \(mixSpec)")
            + (c.perturbation.isNone ? "" : ", perturbations: " + c.perturbation.commandLineWords.joined(separator: " "))
            + (c.perturbation.preempt == .auto && c.check == .full
                ? ", preemptions every \(Preempt.every(meanNanos: Preempt.defaultMeanNanos)) (--check full; --preempt off to stop them)" : ""))
        out.append("measured \(fixed(r.measuredSeconds, 2)) s (of \(fixed(r.wallSeconds, 2)) s wall, less checkpoint pauses)")
        out.append("")
        out.append(table(
            header: ["op", "count", "failed", "ops/s", "p50 ns", "p90 ns", "p99 ns", "p99.9 ns", "max ns", "samples"],
            rows: r.ops.map { o in
                [o.op, "\(o.count)", "\(o.failed)", human(o.opsPerSecond), "\(o.latencyNs.p50)", "\(o.latencyNs.p90)",
                 "\(o.latencyNs.p99)", "\(o.latencyNs.p999)", "\(o.latencyNs.max)", "\(o.latencyNs.samples)"]
            }))
        out.append("")
        if c.faulters > 0 {
            let outcomes = FaultResult.Kind.allCases.map { "\($0.name) \(r.faultOutcomes[$0.name] ?? 0)" }
            out.append("fault outcomes: " + outcomes.joined(separator: ", "))
            if !r.faultEvents.isEmpty {
                out.append("fault path: " + FaultEvent.allCases.compactMap { e in
                    r.faultEvents[e.name].map { "\(e.name) \($0)" } }.joined(separator: ", "))
            }
        }
        if let pipe = r.readerPipe, pipe.contains(where: { $0 > 0 }) {
            out.append("Reader Pipe: " + pipe.map(String.init).joined(separator: " ")
                + " (faults seeing a VMA 0, 1, 2, 3+ grace periods after removal)")
        }
        out += r.delayPoints?.lines ?? []
        if let d = r.deferredFree {
            out.append("deferred free: \(d.retired) retired, backlog max \(d.maxPending) (\(d.maxPendingBytes / 1024) KiB), "
                + "mean \(fixed(d.meanPending, 1)); grace period p50 \(human(Double(d.gracePeriodNs.p50))) ns, "
                + "p99 \(human(Double(d.gracePeriodNs.p99))) ns")
        }
        let p = r.process
        out.append("resources: cpu user \(fixed(p.userSeconds, 2)) s, sys \(fixed(p.systemSeconds, 2)) s, "
            + "context switches \(p.voluntaryContextSwitches) voluntary, \(p.involuntaryContextSwitches) involuntary, "
            + "peak RSS \(p.peakRSSKiB / 1024) MiB, minor faults \(p.minorFaults)")
        if can.contains(.modelStore) {
            out.append("store: \(r.store.vmasAtEnd) VMAs at end, \(r.store.vmaAllocations) allocated, \(r.store.vmaFrees) freed, "
                + "\(r.store.pageTablePages) page-table pages, \(r.store.presentPTEsAtEnd) present PTEs")
        }
        if let m = r.mms {
            out.append("mms: \(m.count) sharing one VMA cache, \(m.destroyed) short-lived mm(s) exited and destroyed, "
                + "\(m.writerWakeups) writer wake-up(s) by readers' puts")
        }
        if let p = r.placement, !p.request.isDefault {
            out.append("placement: " + p.request.commandLineWords.joined(separator: " "))
            for t in p.threads {
                out.append("  \(t.thread): planned \(t.planned ?? "any"), affinity \(t.affinity), ran on \(t.ranOn)")
            }
            out.append("  memory: " + p.memory.map { m in
                "\(m.region) " + m.pages.sorted { $0.key < $1.key }.map { "\($0.key) x\($0.value)" }.joined(separator: ", ")
            }.joined(separator: "; "))
        }
        if let p = r.perturbations {
            out.append("perturbations: \(p.stutters) stutter(s), \(p.shuffles) shuffle(s)"
                + (p.hogSpins.map { ", hogs spun \(human(Double($0))) iterations" } ?? "")
                + (p.preemptions.map { ", \(count($0.total)) preemption(s) injected (spun \(count($0.spins)), yielded \(count($0.yields)), slept \(count($0.sleeps)))" } ?? ""))
        }
        if let q = r.quitDumps { out.append("SIGQUIT: \(q) thread dump(s) printed to stderr; the run went on") }
        return (out + verdictLines(r)).joined(separator: "\n")
    }

    /// The checker's line, every violation in full, and the end line.
    static func verdictLines(_ r: RunResult) -> [String] {
        var out: [String] = []
        // Each invariant with how many times it was evaluated, where the results counted it.
        let checked = r.checker.invariantsChecked.map { i in r.checker.evaluations.map { "\(i.rawValue) \(count($0[i]))" } ?? i.rawValue }
        out.append("checker: \(r.checker.checkpoints) checkpoint(s), checked " + checked.joined(separator: ", ")
            + "; \(r.checker.violationCount) violation(s)")
        for v in r.violations {
            out.append("")
            out.append(v.text)
        }
        if r.checker.violationCount > r.violations.count {
            out.append("(\(r.checker.violationCount - r.violations.count) more violations not kept)")
        }
        out.append("")
        switch r.verdict {
        case .success: out.append("--- End of test: SUCCESS (\(r.strategy))")
        case .failure:
            let kinds = Set(r.violations.map(\.invariant.rawValue)).sorted().joined(separator: " ")
            out.append("--- End of test: FAILURE (\(r.strategy)): \(r.checker.violationCount) violation(s) of \(kinds)")
            out.append("reproduce: \(r.reproduce)")
        case .interrupted, .incomplete:
            out.append("--- End of test: INTERRUPTED by \(r.interruptedBy ?? "a signal") (\(r.strategy)); results cover \(fixed(r.measuredSeconds, 2)) s")
        }
        return out
    }

    /// Several runs side by side: fault ops/s and each run's ratio to the first.
    /// What `vmastress topology` prints.
    public static func topology(_ t: Topology) -> String {
        let (nodes, numaAvailable, source, allowedCPUs) = (t.nodes, t.numaAvailable, t.source, t.allowedCPUs)
        var out = ["NUMA: \(numaAvailable ? "available" : "not available") (libnuma), \(nodes.count) node(s), from \(source)",
                   "this process may run on CPUs \(CPUList.format(allowedCPUs))", ""]
        let header = ["node", "cpus", "memory"] + nodes.map { "to \($0.id)" }
        out.append(table(header: header, rows: nodes.map { n in
            ["\(n.id)", n.cpus.isEmpty ? "(none)" : CPUList.format(n.cpus),
             String(format: "%.1f GiB", Double(n.memoryBytes) / 1_073_741_824)] + n.distances.map(String.init)
        }, leftColumns: 2))
        return out.joined(separator: "\n")
    }

    /// Columns: the first `leftColumns` left-aligned, the rest right-aligned.
    public static func table(header: [String], rows: [[String]], leftColumns: Int = 1) -> String {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i < leftColumns ? cell + pad : pad + cell
            }.joined(separator: "  ").trimmingSuffixSpaces()
        }.joined(separator: "\n")
    }

    /// 12.3M, 456.7K, 89.0
    public static func human(_ x: Double) -> String {
        if x >= 1e9 { return fixed(x / 1e9, 2) + "G" }
        if x >= 1e6 { return fixed(x / 1e6, 2) + "M" }
        if x >= 1e3 { return fixed(x / 1e3, 1) + "K" }
        return fixed(x, 1)
    }

    public static func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

    /// A count: whole below a thousand, then as `human`.
    public static func count(_ n: UInt64) -> String { n < 1000 ? "\(n)" : human(Double(n)) }
}

extension String {
    func trimmingSuffixSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
