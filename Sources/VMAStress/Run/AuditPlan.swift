/// What the harness checks, when, and for which runs: one table that the
/// checker's checkpoints, the final audit, the audit after each mutation
/// (`--check full`) and the report's "checked" list all read. An invariant
/// checked where this table does not say so is missing from the report;
/// one the table lists that no audit or inline check reports is a check that
/// cannot fail (AuditPlanTests holds the table to the catalogue).
enum AuditPlan {
    /// When an invariant is checked.
    struct When: OptionSet, Sendable {
        let rawValue: Int
        /// By the workers, on every operation they do (a fault's result, a mutation's call).
        static let inline = When(rawValue: 1)
        /// After each mutation, around what it touched (`--check full`).
        static let afterMutation = When(rawValue: 2)
        /// At every checkpoint, workers parked, and in the final audit after the last barrier.
        static let checkpoint = When(rawValue: 4)
    }

    /// What a run is, as far as its checks go.
    struct Run: Sendable {
        let capabilities: Capabilities
        let check: CheckLevel
        /// Some fault finished on the lockless path (`spf-success`): each such
        /// fault ran every inline check of its strategy.
        let lockless: Bool
        /// It faulted at the stable region or the guard (or a region worker
        /// faulted its own pages), where STABLE judges every fault.
        var stableFaults = true
        /// It completed a mutation.
        var mutated = true
    }

    /// What a checkpoint's audit of one mm needs besides the mm.
    struct MMInput {
        let mm: MM
        let underflowsBefore: UInt64
        let model: MappingModel?
    }

    struct Row: Sendable {
        let invariant: Invariant
        let when: When
        let applies: @Sendable (Run) -> Bool
        /// The checkpoint's audit of one mm (nil: none of one mm; a nil
        /// result: nothing to audit in this one, and nothing counted).
        var ofMM: (@Sendable (MMInput) -> [Finding]?)? = nil
        /// The checkpoint's audit of all the run's mms together.
        var ofAll: (@Sendable (_ mms: [MM], _ pendingFrees: UInt64) -> [Finding])? = nil
        /// The audit after a mutation, of the ranges it touched.
        var around: (@Sendable (MM, [PageRange]) -> [Finding])? = nil
        /// A finding here ends the mm's audit: the scans after it search the
        /// index, and on a broken one would only repeat the same fault.
        var first = false
        /// Its checks are sampled (the kernel backend's touches after a call,
        /// one call in `Kernel.checkEvery`): a run may claim it and evaluate it
        /// zero times.
        var sampled: (@Sendable (Run) -> Bool)? = nil
    }

    static func model(_ r: Run) -> Bool { r.capabilities.contains(.modelStore) }
    static func checking(_ r: Run) -> Bool { r.check != .off }

    /// In the order the report lists them; the audits of one mm run `first` rows first, then in this order.
    static let rows: [Row] = [
        Row(invariant: .stable, when: .inline, applies: { checking($0) && $0.stableFaults }),
        Row(invariant: .mapping, when: [.afterMutation, .checkpoint],
            applies: { model($0) ? $0.check == .full : checking($0) && $0.mutated },
            ofMM: { i in i.model.map { m in m.lock.withLock { _ in m.compare(i.mm) } } },
            sampled: { !model($0) }),
        Row(invariant: .uaf, when: .inline, applies: { model($0) && checking($0) && $0.lockless }),
        Row(invariant: .torn, when: .inline, applies: { model($0) && checking($0) && $0.lockless }),
        // A type-safe cache reuses a record at once: no grace period to count (REUSE and UAF instead).
        Row(invariant: .pipe, when: .inline,
            applies: { model($0) && checking($0) && $0.lockless && !$0.capabilities.contains(.typeSafeCache) }),
        Row(invariant: .reuse, when: .inline,
            applies: { model($0) && checking($0) && $0.lockless && $0.capabilities.contains(.typeSafeCache) }),
        Row(invariant: .tree, when: [.checkpoint, .afterMutation], applies: model,
            ofMM: { i in
                let tree = Audit.tree(i.mm)
                return tree.isEmpty ? Audit.index(i.mm) : tree
            },
            around: { mm, touched in touched.flatMap { Audit.tree(mm, around: $0) } }, first: true),
        Row(invariant: .ref, when: .checkpoint, applies: model,
            ofMM: { i in Audit.refs(i.mm, underflowsBefore: i.underflowsBefore) }),
        // Holes and take-all-locks leave no PTE behind; then every PTE's VMA and generation.
        Row(invariant: .stalePTE, when: [.inline, .checkpoint, .afterMutation], applies: model,
            ofMM: { i in Audit.holes(i.mm) + Audit.allLocks(i.mm) + Audit.ptes(i.mm) },
            around: { mm, touched in touched.flatMap { Audit.ptes(mm, in: $0) } + Audit.holes(mm) + Audit.allLocks(mm) }),
        Row(invariant: .leak, when: .checkpoint, applies: model,
            ofAll: { mms, pending in Audit.leak(mms, pending: pending) + (mms.first.map { Audit.mmLeak($0.mms) } ?? []) }),
    ]

    /// The invariants a run checks, for its report.
    static func checked(_ run: Run) -> [Invariant] { rows.filter { $0.applies(run) }.map(\.invariant) }

    /// The invariants `run` lists as checked that `evaluations` shows it never
    /// evaluated (sampled ones aside): each a check that could not fail.
    static func unevaluated(_ run: Run, _ evaluations: Evaluations) -> [Invariant] {
        rows.filter { $0.applies(run) && !($0.sampled?(run) ?? false) && evaluations[$0.invariant] == 0 }.map(\.invariant)
    }

    /// A checkpoint's audits, mm by mm, then over all of them, each audit
    /// that ran counted in `tally`. Every row with an audit applies to every
    /// run with a model store (MAPPING's needs its model, `--check full`); a
    /// backend without one has nothing here to audit.
    static func checkpoint(_ mms: [MMInput], pendingFrees: UInt64 = 0, tally: inout Evaluations) -> [Finding] {
        var found: [Finding] = []
        for i in mms {
            for row in rows where row.first {
                guard let f = row.ofMM?(i) else { continue }
                tally.add(row.invariant)
                if !f.isEmpty { return f }
            }
            for row in rows where !row.first {
                guard let f = row.ofMM?(i) else { continue }
                tally.add(row.invariant)
                found += f
            }
        }
        for row in rows {
            guard let audit = row.ofAll else { continue }
            tally.add(row.invariant)
            found += audit(mms.map(\.mm), pendingFrees)
        }
        return found
    }

    static func checkpoint(_ mms: [MMInput], pendingFrees: UInt64 = 0) -> [Finding] {
        var tally = Evaluations()
        return checkpoint(mms, pendingFrees: pendingFrees, tally: &tally)
    }

    /// The audits of the ranges a mutation touched, counted in `tally`; TREE's
    /// first, and the rest only when it found nothing.
    static func afterMutation(_ mm: MM, touched: [PageRange], tally: inout Evaluations) -> [Finding] {
        for row in rows where row.first && row.around != nil { tally.add(row.invariant) }
        let first = indexAround(mm, touched: touched)
        guard first.isEmpty else { return first }
        var found: [Finding] = []
        for row in rows where !row.first {
            guard let audit = row.around else { continue }
            tally.add(row.invariant)
            found += audit(mm, touched)
        }
        return found
    }

    static func afterMutation(_ mm: MM, touched: [PageRange]) -> [Finding] {
        var tally = Evaluations()
        return afterMutation(mm, touched: touched, tally: &tally)
    }

    /// The `first` rows' audits around what a mutation touched: a broken
    /// index, the cause of whatever else disagrees there (MAPPING's model).
    static func indexAround(_ mm: MM, touched: [PageRange]) -> [Finding] {
        rows.filter(\.first).flatMap { $0.around?(mm, touched) ?? [] }
    }
}
