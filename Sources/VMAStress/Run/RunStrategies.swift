/// Which loop a worker thread runs, decided once per worker by the
/// assembly (which does not know the strategy's type).
enum WorkerJob: Sendable {
    /// will-it-scale's own C loop: in this thread, or in a process of its own.
    case task(inThread: Bool)
    /// A faulter mapping, touching and unmapping regions of its own.
    case region
    case faulter
    /// A mutator; `mirrors`: the other mms it repeats each mutation in (`--lockstep`).
    case mutator(mirrors: [Int])
    /// `--mm-churn`'s creator of short-lived mms.
    case mmChurn(caches: MMCaches, index: IndexKind, memory: MemoryPolicy)
}

/// A run's strategy instances, one per mm, behind a face without the
/// strategy's type: the run's assembly, window and verdict (Runner) are
/// compiled once, and only what touches the strategy (the worker loops,
/// the set-up's mutations, the barriers) is specialised per strategy.
///
/// Closures, not a protocol: `of` builds them where the strategy's type is
/// concrete, so each is specialised; a generic type's conformance reached
/// through an existential runs its unspecialised body, and a fault loop
/// that calls its strategy through a witness table is several times slower.
struct RunStrategies: Sendable {
    /// Maps the set-up's regions in mm `i`; what MAPPING's model found wrong.
    let populate: @Sendable (_ mm: Int, RunConfig, MappingModel?) -> [Finding]
    /// The body of a worker's thread: the job's loop on mm `home`'s strategy.
    let worker: @Sendable (WorkerStats, WorkerJob, _ home: Int, [WorkerEnv], _ seed: UInt64) -> @Sendable () -> Void
    let quiesce: @Sendable () -> Void
    let takeFindings: @Sendable () -> [Finding]
    let deferredStats: @Sendable () -> DeferredFreeStats?
    let shutdown: @Sendable () -> Void

    static func of<S: Strategy>(_ members: [S]) -> RunStrategies {
        RunStrategies(
            populate: { i, config, model in Runner.populate(members[i], config, model) },
            worker: { w, job, home, envs, seed in
                let s = members[home], env = envs[home]
                switch job {
                case .task(let inThread): return { taskLoop(s, w, env, inThread: inThread) }
                case .region where env.workload.spec.regions!.heap: return { drive(HeapFaulter<S>(w, env), s, w, env, env.faultContext(w)) }
                case .region: return { drive(RegionFaulter<S>(w, env, seed: seed), s, w, env, env.faultContext(w)) }
                case .faulter: return { drive(Faulter<S>(w, env, seed: seed), s, w, env, env.faultContext(w)) }
                case .mutator(let mirrors):
                    let others = mirrors.map { (members[$0], envs[$0]) }
                    return { drive(Mutator(w, env, seed: seed, mirrors: others), s, w, env, w.faultContext()) }
                case .mmChurn(let caches, let index, let memory):
                    return { mmChurnLoop(S.self, w, env, caches: caches, index: index, memory: memory, seed: seed) }
                }
            },
            quiesce: { members.forEach { $0.quiesce() } },
            takeFindings: { members.flatMap { $0.takeFindings() } },
            deferredStats: { DeferredFreeStats.sum(members.map(\.deferredStats)) },
            shutdown: { members.forEach { $0.shutdown() } })
    }
}
