import Glibc
import Histogram

/// What every worker thread of a run shares.
struct WorkerEnv: @unchecked Sendable {
    let control: RunControl
    let log: ViolationLog
    let layout: Layout
    let mix: OpMix
    let nsPerTick: Double
    let sampleMask: UInt64
    let check: CheckLevel
    let perturbation: Perturbation
    let workload: Workload
    /// Threads that split the churn region between them (`Workload.privateRegions`).
    let regionThreads: Int
    /// A worker stuck this long is a stall.
    let stallNanos: UInt64
    /// Operations a second each mutator starts (`--mutation-rate`); 0: flat out.
    let mutationRate: Double
    /// Each region faulter's file (will-it-scale's per-task file), or anonymous.
    let files: [MappedFile]
    /// MAPPING's reference model (`--check full`), stepped with every mutation.
    let model: MappingModel?
    /// Audit the ranges a mutation touched, right after it returns.
    var auditMutations: Bool { model != nil }

    /// A fault context for `w` set up for this run's check level and perturbations.
    func faultContext(_ w: WorkerStats) -> FaultContext {
        var ctx = w.faultContext()
        ctx.checks = check != .off
        ctx.delays = check == .full
        ctx.longReads = perturbation.longReads
        return ctx
    }
}

/// A faulter: faults at random pages of the stable region, the guard and the
/// churn region, checking STABLE on each and STALE-PTE where the fault sees
/// one. Generic over the strategy so the fault path is specialised.
struct Faulter<S: Strategy>: WorkerKind {
    let w: WorkerStats
    let log: ViolationLog
    var rng: RNG
    let checking: Bool
    let counters: UnsafeMutablePointer<UInt64>, hist: UnsafeMutablePointer<Histogram<UInt64>>
    let stable: PageRange, guardRegion: PageRange, churn: PageRange
    let toStable: UInt64, toGuard: UInt64, writePercent: UInt64, hotPercent: UInt64, lookupPercent: UInt64
    let nsPerTick: Double, sampleMask: UInt64
    /// Counter offsets, read once: `outcomeBase` is a lazily initialised global.
    let faultDone = WorkerStats.doneBase + OpKind.fault.rawValue, lookupDone = WorkerStats.doneBase + OpKind.lookup.rawValue
    let outcomes = WorkerStats.outcomeBase

    init(_ w: WorkerStats, _ env: WorkerEnv, seed: UInt64) {
        self.w = w
        log = env.log
        rng = RNG(seed: seed)
        checking = env.check != .off
        counters = w.counters
        hist = w.histograms
        stable = env.layout.stable
        guardRegion = env.layout.guardRegion
        churn = env.layout.churn
        toStable = env.mix.faultStablePercent
        toGuard = toStable + env.mix.faultGuardPercent
        writePercent = env.mix.faultWritePercent
        hotPercent = env.mix.faultHotPercent
        // A backend without lookups (the kernel's) only faults.
        lookupPercent = S.info.capabilities.contains(.lookups) ? env.mix.lookupPercent : 0
        nsPerTick = env.nsPerTick
        sampleMask = env.sampleMask
        w.currentOp.pointee.store(OpKind.fault.rawValue, ordering: .relaxed)
    }

    @inline(__always)
    mutating func step(_ s: S, _ ctx: inout FaultContext, _ n: UInt64) {
        let dice = rng.below(100)
        let page: UInt64
        if dice < toStable {
            page = stable.start + rng.below(stable.count)
        } else if dice < toGuard {
            page = guardRegion.start + rng.below(guardRegion.count)
        } else if rng.chance(hotPercent), let hot = s.mm.probes.hotRange, hot.count > 0 {
            page = hot.start + rng.below(hot.count)
            ctx.hot = true
        } else {
            page = churn.start + rng.below(churn.count)
        }
        let write = rng.chance(writePercent)
        // No draw without lookups: a seed's faults stay what they were.
        let op: OpKind = lookupPercent > 0 && rng.chance(lookupPercent) ? .lookup : .fault

        let sampled = n & sampleMask == 0
        let t0 = sampled ? Clock.ticks() : 0
        let result = ctx.finish(op == .fault ? s.fault(page, write: write, &ctx) : s.lookup(page, &ctx))
        if sampled { _ = hist[op.rawValue].record(UInt64(Double(Clock.ticks() &- t0) * nsPerTick)) }
        ctx.hot = false

        if op == .fault {
            counters[faultDone] &+= 1
            counters[outcomes + result.kind.rawValue] &+= 1
        } else {
            counters[lookupDone] &+= 1
        }
        // Where Finding.ofFault can find something: a stable fault that failed, a guard fault that
        // did not get SIGSEGV (no VMA), a violation anywhere. Asking it about every stable fault
        // that succeeded was a third of a faulter's time on present pages.
        let suspect = dice < toStable ? !result.succeeded : dice < toGuard ? result != .noVMA : !result.succeeded && !isSegv(result)
        if checking && dice < toGuard { ctx.evaluating(.stable) }
        if checking && suspect {
            checkFault(page, write: write, result, stable: stable, guardRegion: guardRegion, log, w)
        }
    }
}

@inline(__always)
func isSegv(_ r: FaultResult) -> Bool { r == .noVMA || r == .accessDenied }

/// Reports what the fault's result shows wrong (`Finding.ofFault`).
@inline(never)
func checkFault(_ page: UInt64, write: Bool, _ r: FaultResult, stable: PageRange, guardRegion: PageRange,
                _ log: ViolationLog, _ w: WorkerStats) {
    if let f = Finding.ofFault(page, write: write, r, stable: stable, guardRegion: guardRegion) {
        log.report(f, thread: w.name)
    }
}

/// A mutator: mmap, munmap, mprotect, mremap and take-all-locks at random
/// places in the churn region, each timed; under `--check full`, the
/// touched ranges are audited after each. `mirrors` (`--lockstep`): the
/// other mms, each given the same call right after `s`'s mm.
struct Mutator<S: Strategy>: WorkerKind {
    let w: WorkerStats
    let env: WorkerEnv
    let mirrors: [(S, WorkerEnv)]
    var rng: RNG
    var bursts: WriterBursts
    var pacer: MutationPacer
    var quiescentEvery: UInt64 { 1 }
    var cpuEvery: UInt64 { 1 }

    init(_ w: WorkerStats, _ env: WorkerEnv, seed: UInt64, mirrors: [(S, WorkerEnv)] = []) {
        self.w = w
        self.env = env
        self.mirrors = mirrors
        rng = RNG(seed: seed)
        bursts = WriterBursts(on: env.perturbation.writerBursts, seed: seed)
        pacer = MutationPacer(perSecond: env.mutationRate)
    }

    mutating func step(_ s: S, _ ctx: inout FaultContext, _ n: UInt64) {
        let churn = env.layout.churn
        let op = env.mix.pickMutation(&rng)
        let start = churn.start + rng.below(churn.count)
        let count = 1 + rng.below(env.mix.maxMutationPages)
        let range = PageRange(start, min(start + count, churn.end))
        let prot = OpMix.churnProts[Int(rng.below(UInt64(OpMix.churnProts.count)))]
        let hint = churn.start + rng.below(churn.count)

        let call: MutationCall = switch op {
        case .mmap: .mmap(count: count, prot: prot, within: churn, hint: hint)
        case .munmap: .munmap(range)
        case .mprotect: .mprotect(range, prot)
        case .mremap: .mremap(vmaAt: start, within: churn, hint: hint)
        case .takeAllLocks, .fault, .lookup: .takeAllLocks
        }
        let w = self.w
        @inline(__always) func mutate(_ s: S, _ env: WorkerEnv) {
            let result = timedMutation(op, op == .takeAllLocks ? nil : call, s, w, env) { s.perform(call) }
            if result.status == .done && env.auditMutations { auditAfter(op, result, s.mm, w, env) }
        }
        mutate(s, env)
        for (m, mEnv) in mirrors { mutate(m, mEnv) }
        bursts.afterOperation(s)
        pacer.afterOperation(s, env.control)
    }
}

/// Runs one mutation, timed into its histogram and counted as done or
/// failed; the stall dump sees it as the thread's current operation. Under
/// `--check full` the MAPPING model is stepped with the call (under its
/// lock, so it sees mutations in the mm's order) and compared with the
/// store around what the call touched.
///
/// Writers read nothing under RCU: they are offline for the whole call
/// (QSBR), so a writer that waits for a grace period under mmap_lock never
/// waits for one blocked behind it.
@inline(__always)
func timedMutation<S: Strategy>(_ op: OpKind, _ call: MutationCall?, _ s: S, _ w: WorkerStats, _ env: WorkerEnv,
                                _ body: () -> MutationResult) -> MutationResult {
    s.threadOffline()
    defer { s.threadOnline() }
    guard let model = env.model, let call else { return timed(op, w, env, body) }
    return model.lock.withLock { _ -> MutationResult in
        let r = timed(op, w, env, body)
        var found = model.apply(call, r)
        if r.status == .done {
            w.audited.add(.mapping)
            s.mm.mmapLock.readLock()
            for t in r.touched where found.isEmpty {
                found = model.compare(s.mm, in: PageRange(t.start - min(t.start, 1), min(t.end + 1, s.mm.space.end)))
            }
            // A store that broke its own index disagrees with the model too: TREE, the cause, goes first.
            if !found.isEmpty { found = AuditPlan.indexAround(s.mm, touched: r.touched) + found }
            s.mm.mmapLock.readUnlock()
        }
        for var f in found {
            f.expected = "after \(op.name) returns: " + f.expected
            env.log.report(f, thread: w.name)
        }
        return r
    }
}

@inline(__always)
private func timed(_ op: OpKind, _ w: WorkerStats, _ env: WorkerEnv, _ body: () -> MutationResult) -> MutationResult {
    w.currentOp.pointee.store(op.rawValue, ordering: .relaxed)
    let t0 = Clock.ticks()
    let r = body()
    _ = w.histograms[op.rawValue].record(UInt64(Double(Clock.ticks() &- t0) * env.nsPerTick))
    w.currentOp.pointee.store(-1, ordering: .relaxed)
    w.counters[(r.status == .done ? WorkerStats.doneBase : WorkerStats.failedBase) + op.rawValue] &+= 1
    return r
}

/// `--mutation-rate`: a mutator starts its operations on a fixed schedule
/// (like a program whose mmaps are a share of its work) and sleeps, offline,
/// between them. One that falls behind does not burst to catch up.
struct MutationPacer {
    let period: UInt64
    var next: UInt64 = 0

    init(perSecond: Double) { period = perSecond > 0 ? UInt64(1e9 / perSecond) : 0 }

    mutating func afterOperation<S: Strategy>(_ s: S, _ control: RunControl) {
        guard period > 0 else { return }
        let now = Clock.nanos()
        next = next == 0 || now > next + period ? now + period : next + period
        guard next > now else { return }
        s.threadOffline()
        // Clock.sleep wakes every 10 ms at most, so a checkpoint or a stop is answered soon.
        let epoch = control.epoch
        _ = Clock.sleep(until: next, unless: { control.epoch != epoch })
        s.threadOnline()
    }
}

/// `--writer-bursts`: a mutator runs 64 to 1023 operations back to back,
/// then stays quiet (offline, for QSBR) for 1 to 20 ms.
struct WriterBursts {
    let on: Bool
    var rng: RNG
    var left: UInt64 = 0

    init(on: Bool, seed: UInt64) {
        self.on = on
        rng = RNG(seed: seed ^ 0xB0B5)
    }

    mutating func afterOperation<S: Strategy>(_ s: S) {
        guard on else { return }
        if left > 0 {
            left -= 1
            return
        }
        s.threadOffline()
        usleep(UInt32(1000 + rng.below(19_000)))
        s.threadOnline()
        left = 64 + rng.below(960)
    }
}

/// The post-operation audit: once the call has returned, every PTE in the
/// touched ranges must belong to a live VMA of its generation (STALE-PTE),
/// and the index around them must be in order (TREE). Holding mmap_lock for
/// read excludes every writer of every strategy.
private func auditAfter(_ op: OpKind, _ result: MutationResult, _ mm: MM, _ w: WorkerStats, _ env: WorkerEnv) {
    mm.mmapLock.readLock()
    let found = AuditPlan.afterMutation(mm, touched: result.touched, tally: &w.audited)
    mm.mmapLock.readUnlock()
    for var f in found.prefix(4) {
        f.expected = "after \(op.name) returns: " + f.expected
        env.log.report(f, thread: w.name)
    }
}
