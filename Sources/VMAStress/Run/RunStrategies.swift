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
protocol RunStrategies: AnyObject, Sendable {
    /// Maps the set-up's regions in mm `i`; what MAPPING's model found wrong.
    func populate(_ i: Int, _ config: RunConfig, _ model: MappingModel?) -> [Finding]
    /// The body of worker `w`'s thread: `job`'s loop on mm `home`'s strategy.
    func worker(_ w: WorkerStats, _ job: WorkerJob, home: Int, envs: [WorkerEnv], seed: UInt64) -> @Sendable () -> Void
    func quiesce()
    func takeFindings() -> [Finding]
    var deferredStats: DeferredFreeStats? { get }
    func shutdown()
}

final class StrategySet<S: Strategy>: RunStrategies, @unchecked Sendable {
    let members: [S]

    init(_ mms: [MM]) { members = mms.map { S(mm: $0) } }

    func populate(_ i: Int, _ config: RunConfig, _ model: MappingModel?) -> [Finding] {
        Runner.populate(members[i], config, model)
    }

    func worker(_ w: WorkerStats, _ job: WorkerJob, home: Int, envs: [WorkerEnv], seed: UInt64) -> @Sendable () -> Void {
        let s = members[home], env = envs[home]
        switch job {
        case .task(let inThread): return { taskLoop(s, w, env, inThread: inThread) }
        case .region: return { regionLoop(s, w, env, seed: seed) }
        case .faulter: return { faulterLoop(s, w, env, seed: seed) }
        case .mutator(let mirrors):
            let others = mirrors.map { (members[$0], envs[$0]) }
            return { mutatorLoop(s, w, env, seed: seed, mirrors: others) }
        case .mmChurn(let caches, let index, let memory):
            return { mmChurnLoop(S.self, w, env, caches: caches, index: index, memory: memory, seed: seed) }
        }
    }

    func quiesce() { members.forEach { $0.quiesce() } }
    func takeFindings() -> [Finding] { members.flatMap { $0.takeFindings() } }
    var deferredStats: DeferredFreeStats? { DeferredFreeStats.sum(members.map(\.deferredStats)) }
    func shutdown() { members.forEach { $0.shutdown() } }
}
