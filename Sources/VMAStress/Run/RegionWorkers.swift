import CSupport
import Glibc

/// The faulters of `page-fault`, `ebizzy` and will-it-scale's testcases:
/// each maps chunks in a slice of the churn region that is its own,
/// write-faults every page of a new chunk (unless the workload only maps,
/// as mmap1), (ebizzy) searches its chunks with read faults, and unmaps
/// them. Faults, mmaps and munmaps are counted and timed like everyone
/// else's.
///
/// A fault on a page of a chunk the thread mapped read-write and has not
/// unmapped must succeed: a failure is reported as STABLE.
struct RegionFaulter<S: Strategy>: WorkerKind {
    let w: WorkerStats
    let env: WorkerEnv
    let checking: Bool
    var rng: RNG
    let plan: RegionPlan
    let file: MappedFile
    /// Chunks mapped and not yet unmapped; never grows past its reserved capacity.
    var chunks: [PageRange] = []
    var touchNext: UInt64 = 0, touchEnd: UInt64 = 0
    var searchesLeft = 0

    init(_ w: WorkerStats, _ env: WorkerEnv, seed: UInt64) {
        self.w = w
        self.env = env
        checking = env.check != .off
        rng = RNG(seed: seed)
        plan = RegionPlan(env, thread: w.index)
        file = env.files[w.index]
        chunks.reserveCapacity(plan.maxChunks)
    }

    mutating func step(_ s: S, _ ctx: inout FaultContext, _ n: UInt64) {
        if touchNext < touchEnd || (searchesLeft > 0 && !chunks.isEmpty) {
            fault(s, &ctx, n)
        } else if chunks.count < plan.maxChunks && (chunks.isEmpty || rng.below(2) == 0) {
            let count = plan.chunkPages(&rng)
            let call = MutationCall.mmap(count: count, prot: .readWrite, within: plan.slice, hint: plan.slice.start, file: file)
            let r = timedMutation(.mmap, call, s, w, env) { s.perform(call) }
            if r.status == .done, let mapped = r.touched.first {
                chunks.append(mapped)
                touchNext = mapped.start
                touchEnd = plan.touch ? mapped.end : mapped.start
                searchesLeft = plan.searchesPerChunk
            } else if !chunks.isEmpty {
                unmap(s, chunks.removeLast())
            }
            s.quiescentState()
        } else {
            let i = plan.searchesPerChunk == 0 ? 0 : Int(rng.below(UInt64(chunks.count)))
            unmap(s, chunks.remove(at: i))
            s.quiescentState()
        }
    }

    /// The next page of the new chunk (a write), or a search of the chunks (a read).
    @inline(__always)
    private mutating func fault(_ s: S, _ ctx: inout FaultContext, _ n: UInt64) {
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
        if checking { ctx.evaluating(.stable) }
        if checking && !result.succeeded {
            checkFault(page, write: write, result, stable: env.layout.stable, guardRegion: env.layout.guardRegion, env.log, w)
            if isSegv(result) {
                env.log.report(Finding(.stable, page: page,
                                       expected: "a \(write ? "write" : "read") fault on a page this thread mapped read-write and has not unmapped succeeds",
                                       seen: "\(result)"), thread: w.name)
            }
        }
    }

    private func unmap(_ s: S, _ c: PageRange) {
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
    let touch: Bool

    init(_ env: WorkerEnv, thread: Int) {
        let churn = env.layout.churn
        let per = churn.count / UInt64(env.regionThreads)
        let shape = env.workload.spec.regions!
        // A chunk of a page table or more starts on a page-table boundary
        // when the slice has room, as the kernel puts large file mappings on
        // a PMD (thp_get_unmapped_area): a large folio of the page cache then
        // maps whole instead of a page per fault.
        let table = UInt64(PageTable.ptesPerTable), start = churn.start + per * UInt64(thread)
        let aligned = (shape.chunkPages ?? 0) >= table && per > (shape.chunkPages ?? 0) + table
            ? (start + table - 1) / table * table : start
        slice = PageRange(start: aligned, count: per - 1 - min(per - 1, aligned - start))
        maxChunks = shape.maxChunks
        searchesPerChunk = shape.searchesPerChunk
        touch = shape.touch
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

/// brk1's faulter: a one-page heap at the start of the thread's slice,
/// grown by the page after it (an mmap there merges with the heap, as brk's
/// vma_expand) and shrunk again (a munmap of that page), over and over.
struct HeapFaulter<S: Strategy>: WorkerKind {
    let w: WorkerStats
    let env: WorkerEnv
    let slice: PageRange
    let start: MutationCall
    let top: PageRange
    var mapped: Bool?
    var quiescentEvery: UInt64 { 1 }

    init(_ w: WorkerStats, _ env: WorkerEnv) {
        self.w = w
        self.env = env
        slice = RegionPlan(env, thread: w.index).slice
        let heap = PageRange(start: slice.start, count: 1)
        top = PageRange(start: heap.end, count: 1)
        start = .mmapFixed(heap, .readWrite, flags: 0)
    }

    mutating func step(_ s: S, _ ctx: inout FaultContext, _ n: UInt64) {
        let start = self.start, w = self.w, env = self.env
        guard mapped == true else {
            // The heap could not be mapped (yet): nothing to grow (counted as failed mmaps).
            mapped = timedMutation(.mmap, start, s, w, env) { s.perform(start) }.status == .done
            return
        }
        let grow = MutationCall.mmap(count: 1, prot: .readWrite, within: slice, hint: top.start)
        let r = timedMutation(.mmap, grow, s, w, env) { s.perform(grow) }
        if r.status == .done, let got = r.touched.first {
            _ = timedMutation(.munmap, .munmap(got), s, w, env) { s.perform(.munmap(got)) }
        }
    }
}

/// will-it-scale's per-task files for page_fault2, page_fault3 and mmap2:
/// one per faulter, made before the threads start when the kernel backend
/// maps them (the model marks its VMAs file-backed and opens nothing),
/// closed after they stop.
enum TaskFiles {
    struct Failed: Error, CustomStringConvertible { let description: String }

    static func open(_ workload: Workload, faulters: Int, realFiles: Bool) throws -> [MappedFile] {
        guard let shape = workload.spec.regions, shape.backing != .anonymous, let pages = shape.chunkPages else {
            return Array(repeating: .anonymous, count: faulters)
        }
        let shared = shape.backing == .sharedFile
        guard realFiles else { return Array(repeating: MappedFile(isFile: true, shared: shared), count: faulters) }
        var files: [MappedFile] = []
        for _ in 0..<faulters {
            let fd = vms_temp_file(pages * 4096, shared ? 1 : 0)
            guard fd >= 0 else {
                close(files)
                throw Failed(description: "cannot make a \((pages * 4096) >> 20) MiB temporary file in $TMPDIR or /tmp for \(workload.rawValue): \(String(cString: strerror(-fd)))")
            }
            files.append(MappedFile(isFile: true, fd: fd, shared: shared))
        }
        return files
    }

    static func close(_ files: [MappedFile]) {
        for f in files where f.fd >= 0 { _ = Glibc.close(f.fd) }
    }
}
