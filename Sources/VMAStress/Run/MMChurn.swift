/// `--mm-churn`: short-lived processes beside the run's mms. One thread,
/// over and over, creates an mm that shares the run's caches, maps a few
/// dozen VMAs in it (records the other mms freed, handed out again: in a
/// type-safe cache VMA memory moves between mms), touches a page of each,
/// and exits it: every VMA unmapped and freed (exit_mmap), then the mm's
/// own mm_count dropped. The mm is destroyed at its last mmdrop, which a
/// reader of another mm may hold (mmgrab); its tree and page tables go
/// later, in batches, once their deferred frees have run.
enum MMChurn {
    /// A short-lived mm's address space and VMAs.
    static let pages: UInt64 = 4096
    static let maxVMAs = 256
    /// B-tree nodes beyond its VMAs' (the ones waiting for grace periods between exits).
    static let nodeRoom = 4096
    static let vmasPerLife = 48
    /// Exited mms whose memory waits for their deferred frees; torn down
    /// together (one barrier for them all: liburcu's waits 10 ms or more).
    static let graveyardSize = 32
}

func mmChurnLoop<S: Strategy>(_: S.Type, _ w: WorkerStats, _ env: WorkerEnv, caches: MMCaches, index: IndexKind,
                              memory: MemoryPolicy, seed: UInt64) {
    var rng = RNG(seed: seed)
    var gate = WorkerGate()
    var lives: UInt64 = 0
    let space = PageRange(0, MMChurn.pages)
    var graveyard: [(MM, S)] = []
    while true {
        // Every mm slot alive means exited mms that something still holds (an mmgrab without
        // its mmdrop): say so, and idle through the run's checkpoints instead of making more.
        if caches.mms.available == 0 {
            let held = caches.mms.live().filter(\.exited).count
            env.log.report(Finding(.leak, expected: "an exited mm is destroyed once nothing holds it (mmgrab and mmdrop in pairs)",
                                   seen: "every one of the \(caches.mms.capacity) mm slots is alive, \(held) of them exited mms"),
                           thread: w.name)
            bury(&graveyard)
            gate.idleUntilStop(w, env.control)
            break
        }
        let mm = MM(pages: MMChurn.pages, maxVMAs: MMChurn.maxVMAs, index: index, memory: memory,
                    caches: caches, nodeRoom: MMChurn.nodeRoom)
        let s = S(mm: mm)
        var ctx = env.faultContext(w)
        s.threadStart(&ctx)
        // About to park (a checkpoint) or stop: the exited mms' deferred frees run first, so
        // the checker's LEAK count, which sees only the run's own mms, has none of theirs pending.
        if env.control.epoch != gate.handledEpoch { bury(&graveyard) }
        let stop = gate.shouldStop(s, w, env.control)
        if !stop {
            for i in 0..<MMChurn.vmasPerLife {
                // Alternating protections keep the VMAs apart.
                let prot: Prot = i % 2 == 0 ? .readWrite : .read
                _ = s.perform(.mmap(count: 1 + rng.below(4), prot: prot, within: space, hint: rng.below(space.count)))
            }
            var touch: [UInt64] = []
            mm.mmapLock.readLock()
            mm.list.forEach { touch.append($0.start) }
            mm.mmapLock.readUnlock()
            for page in touch {
                let r = s.fault(page, write: false, &ctx)
                if r.isViolation, let f = Finding.ofFault(page, write: false, r, stable: PageRange(0, 0), guardRegion: PageRange(0, 0)) {
                    env.log.report(f, thread: w.name)
                }
            }
        }
        // exit_mmap: unmap everything; then the mm's own mmdrop (it is destroyed unless a
        // reader of another mm holds it); its memory goes once its deferred frees have run.
        s.threadOffline()
        _ = s.perform(.munmap(space))
        s.threadOnline()
        s.threadStop(&ctx)
        mm.mms.exit(mm.identity)
        graveyard.append((mm, s))
        if stop || graveyard.count >= MMChurn.graveyardSize { bury(&graveyard) }
        if stop { break }
        lives &+= 1
        w.progress.pointee.store(lives, ordering: .relaxed)
    }
    gate.finish(w)
}

/// Runs the exited mms' deferred frees (one barrier serves every mm of a
/// flavor: a barrier with nothing of its own pending returns at once), then
/// frees their memory.
private func bury<S: Strategy>(_ graveyard: inout [(MM, S)]) {
    for (_, t) in graveyard { t.quiesce() }
    for (m, t) in graveyard {
        t.shutdown()
        m.destroy(identityDropped: true)
    }
    graveyard.removeAll(keepingCapacity: true)
}
