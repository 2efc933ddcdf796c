extension Finding {
    /// What one fault's result shows wrong, if anything: the inline checks'
    /// verdicts (UAF, TORN, PIPE, STALE-PTE met by the fault), then STABLE for
    /// a fault in the stable region that did not resolve or one in the guard
    /// that found a VMA.
    public static func ofFault(_ page: UInt64, write: Bool, _ r: FaultResult, stable: PageRange,
                               guardRegion: PageRange) -> Finding? {
        let access = write ? "write" : "read"
        switch r {
        case let .stalePTE(pte, vmaGen):
            return Finding(.stalePTE, page: page, expected: "a PTE of the faulting VMA's generation \(vmaGen)", seen: "PTE \(pte)")
        case let .useAfterFree(id, tag) where id == 0:
            let what = tag == BTree.freedMark ? "index node or VMA record" : "record (tag 0x\(String(tag, radix: 16)))"
            return Finding(.uaf, page: page, expected: "a \(access) fault's lookup reaches only memory that is not yet freed (index nodes and VMA records outlive every reader that can reach them)",
                           seen: "the walk landed on a freed \(what)")
        case let .useAfterFree(id, tag):
            let seen = tag == VMA.poison ? "its record poisoned (freed)" : "its record reused (tag 0x\(String(tag, radix: 16)))"
            return Finding(.uaf, page: page, expected: "VMA id \(id), found by this \(access) fault, stays allocated until the fault is done with it",
                           seen: seen)
        case let .torn(id):
            return Finding(.torn, page: page, expected: "fields of VMA id \(id) read under an even, unchanged seqcount match their checksum",
                           seen: "a checksum mismatch")
        case let .pipe(id, gracePeriods):
            return Finding(.pipe, page: page, expected: "no grace period ends while a reader still uses VMA id \(id), which it found before its removal",
                           seen: "\(gracePeriods) grace period(s) had ended (reader pipe stage \(gracePeriods + 1))")
        case let .reuse(id, why):
            return Finding(.reuse, page: page, expected: "a \(access) fault acts only on a VMA of its own mm that covers the page (VMA id \(id), which it holds a reference on)",
                           seen: why.text)
        case let .mmFreed(identity):
            return Finding(.uaf, page: page, expected: "an mm a \(access) fault touches (the writer it wakes after dropping a VMA reference) stays alive until it is done",
                           seen: "mm \(MMCache.describe(identity)) was destroyed")
        case .installed, .upgraded, .present, .noVMA, .accessDenied:
            break
        }
        if stable.contains(page) && !r.succeeded {
            return Finding(.stable, page: page, expected: "a \(access) fault in the stable region (read-write, never unmapped) succeeds",
                           seen: "\(r)")
        }
        if guardRegion.contains(page) && r != .noVMA {
            return Finding(.stable, page: page, expected: "a \(access) fault in the never-mapped guard gets SIGSEGV (no VMA)", seen: "\(r)")
        }
        return nil
    }
}
