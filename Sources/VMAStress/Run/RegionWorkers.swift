/// The faulters of `page-fault` and `ebizzy`: each maps chunks in a slice of
/// the churn region that is its own, write-faults every page of a new chunk,
/// (ebizzy) searches its chunks with read faults, and unmaps them. Faults,
/// mmaps and munmaps are counted and timed like everyone else's.
///
/// A fault on a page of a chunk the thread mapped read-write and has not
/// unmapped must succeed: a failure is reported as STABLE.
func regionLoop<S: Strategy>(_ s: S, _ w: WorkerStats, _ env: WorkerEnv, seed: UInt64) {
    var ctx = env.faultContext(w)
    let checking = ctx.checks
    s.threadStart(&ctx)
    defer { s.threadStop(&ctx) }
    FaultWork.threadStart()
    var rng = RNG(seed: seed)
    let plan = RegionPlan(env, thread: w.index)
    // Chunks mapped and not yet unmapped; never grows past its reserved capacity.
    var chunks: [PageRange] = []
    chunks.reserveCapacity(plan.maxChunks)
    var touchNext: UInt64 = 0, touchEnd: UInt64 = 0
    var searchesLeft = 0
    var gate = WorkerGate()
    var n: UInt64 = 0

    while !gate.shouldStop(s, w, env.control) {
        if touchNext < touchEnd || (searchesLeft > 0 && !chunks.isEmpty) {
            let write = touchNext < touchEnd
            let page: UInt64
            if write {
                page = touchNext
                touchNext += 1
            } else {
                let c = chunks[Int(rng.below(UInt64(chunks.count)))]
                page = c.start + rng.below(c.count)
                searchesLeft -= 1
            }
            w.currentOp.pointee.store(OpKind.fault.rawValue, ordering: .relaxed)
            let sampled = n & env.sampleMask == 0
            let t0 = sampled ? Clock.ticks() : 0
            let result = ctx.finish(s.fault(page, write: write, &ctx))
            if sampled { _ = w.histograms[OpKind.fault.rawValue].record(UInt64(Double(Clock.ticks() &- t0) * env.nsPerTick)) }
            w.counters[WorkerStats.doneBase + OpKind.fault.rawValue] &+= 1
            w.counters[WorkerStats.outcomeBase + result.kind.rawValue] &+= 1
            if checking && !result.succeeded {
                checkFault(page, write: write, result, stable: env.layout.stable, guardRegion: env.layout.guardRegion, s.mm, w, env)
                if isSegv(result) {
                    env.log.report(Finding(.stable, page: page,
                                           expected: "a \(write ? "write" : "read") fault on a page this thread mapped read-write and has not unmapped succeeds",
                                           seen: "\(result)"), thread: w.name)
                }
            }
            if n & 15 == 0 { s.quiescentState() }
        } else if chunks.count < plan.maxChunks && (chunks.isEmpty || rng.below(2) == 0) {
            let count = plan.chunkPages(&rng)
            let r = timedMutation(.mmap, .mmap(count: count, prot: .readWrite, within: plan.slice, hint: plan.slice.start), s, w, env) {
                s.perform(.mmap(count: count, prot: .readWrite, within: plan.slice, hint: plan.slice.start))
            }
            if r.status == .done, let mapped = r.touched.first {
                chunks.append(mapped)
                touchNext = mapped.start
                touchEnd = mapped.end
                searchesLeft = plan.searchesPerChunk
            } else if !chunks.isEmpty {
                unmap(chunks.removeLast())
            }
            s.quiescentState()
        } else {
            let i = plan.searchesPerChunk == 0 ? 0 : Int(rng.below(UInt64(chunks.count)))
            unmap(chunks.remove(at: i))
            s.quiescentState()
        }
        n &+= 1
        w.progress.pointee.store(n, ordering: .relaxed)
        if n & 4095 == 0 { noteCPU(w.cpusSeen) }
    }
    gate.finish(w)

    func unmap(_ c: PageRange) {
        _ = timedMutation(.munmap, .munmap(c), s, w, env) { s.perform(.munmap(c)) }
    }
}

/// One region worker's slice of the churn region and the shape of its chunks.
struct RegionPlan {
    /// This thread's pages, less one at the end so neighbours' chunks never merge.
    let slice: PageRange
    let maxChunks: Int
    let searchesPerChunk: Int
    let chunkRange: (low: UInt64, high: UInt64)

    init(_ env: WorkerEnv, thread: Int) {
        let churn = env.layout.churn
        let per = churn.count / UInt64(env.regionThreads)
        slice = PageRange(start: churn.start + per * UInt64(thread), count: per - 1)
        let shape = env.workload.spec.regions!
        maxChunks = shape.maxChunks
        searchesPerChunk = shape.searchesPerChunk
        if let pages = shape.chunkPages {
            chunkRange = (min(pages, slice.count), min(pages, slice.count))
        } else {
            chunkRange = (1, max(1, min(env.mix.maxMutationPages, slice.count / 4)))
        }
    }

    func chunkPages(_ rng: inout RNG) -> UInt64 {
        chunkRange.low + rng.below(chunkRange.high - chunkRange.low + 1)
    }
}
