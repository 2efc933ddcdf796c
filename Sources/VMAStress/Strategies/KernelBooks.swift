/// What the kernel backend knows of its reservation: each page's state (a
/// `RunMap`: `free` for its PROT_NONE placeholder, `mapped | prot`, or
/// `lost` when something else mapped there while it was unmapped) and the
/// ranges calls are working on. A claimed page belongs to one call until it
/// settles it: no two calls change one page, and no first fit hands out a
/// page another call is about to map. The backend holds its mutex around
/// each call here, never across a system call.
struct KernelBooks: ~Copyable {
    static let free: UInt8 = RunMap.free, mapped: UInt8 = 0x80, lost: UInt8 = 0x20

    private var map: RunMap
    /// The claimed ranges: one or two per call in flight, so a list.
    private var claims: [PageRange] = []

    init(pages: UInt64) { map = RunMap(pages: pages) }

    var pages: UInt64 { map.pages }

    func state(at page: UInt64) -> UInt8 { map.value(at: page) }

    /// Claims `r` if every page's `state & mask == want` and no call holds any of it.
    mutating func claim(_ r: PageRange, mask: UInt8, want: UInt8) -> Bool {
        guard claimed(overlapping: r) == nil, map.all(r, mask: mask, want: want) else { return false }
        claims.append(r)
        return true
    }

    /// Claims the first `count` free pages from `hint`, wrapping to `within.start`.
    mutating func claimFirstFree(count: UInt64, within: PageRange, hint: UInt64) -> PageRange? {
        let end = min(within.end, pages)
        let h = max(within.start, min(hint, end))
        guard let gap = firstFree(count: count, from: h, below: end)
                ?? firstFree(count: count, from: within.start, below: min(end, h + count - 1)) else { return nil }
        claims.append(gap)
        return gap
    }

    /// Claims the stretches of mapped pages inside `r` that no call holds:
    /// mappings of different protections side by side are one stretch, as one munmap takes them.
    mutating func claimMapped(in r: PageRange) -> [PageRange] {
        var stretches: [PageRange] = []
        map.forEachRun(in: r) { run, v in
            guard v & Self.mapped != 0 else { return }
            stretches.appendJoining(run)
        }
        var pieces: [PageRange] = []
        for s in stretches { pieces += unclaimed(s) }
        claims += pieces
        return pieces
    }

    /// Claims the run of one state holding mapped `page`, up to the nearest
    /// claimed pages, with a first fit for its move; returns the source, its
    /// state and the destination.
    mutating func claimMove(_ page: UInt64, within: PageRange, hint: UInt64) -> (PageRange, UInt8, PageRange)? {
        guard let (run, value) = map.run(containing: page), value & Self.mapped != 0,
              let src = unclaimed(run).first(where: { $0.contains(page) }),
              let dst = claimFirstFree(count: src.count, within: within, hint: hint) else { return nil }
        claims.append(src)
        return (src, value, dst)
    }

    /// Sets every page of claimed `r` to `value` and gives up the claims inside it.
    mutating func settle(_ r: PageRange, to value: UInt8) {
        map.assign(r, value)
        claims.removeAll { r.start <= $0.start && $0.end <= r.end }
    }

    /// The reservation less what is lost, joined: what shutdown unmaps.
    func kept() -> [PageRange] {
        var keep: [PageRange] = []
        map.forEachRun(in: PageRange(0, pages)) { run, v in if v != Self.lost { keep.appendJoining(run) } }
        return keep
    }

    // MARK: Claims

    private func claimed(overlapping r: PageRange) -> PageRange? { claims.first { $0.overlaps(r) } }

    /// The first free window not claimed. A window that starts before a claim it overlaps ends
    /// and after the window found overlaps that claim too, so the search resumes past it.
    private func firstFree(count: UInt64, from lo: UInt64, below hi: UInt64) -> PageRange? {
        var lo = lo
        while let w = map.firstFree(count: count, from: lo, below: hi) {
            guard let c = claimed(overlapping: w) else { return w }
            lo = c.end
        }
        return nil
    }

    /// `r` less the claimed ranges, in pieces.
    private func unclaimed(_ r: PageRange) -> [PageRange] {
        var pieces = [r]
        for c in claims where c.overlaps(r) {
            pieces = pieces.flatMap { p -> [PageRange] in
                guard p.overlaps(c) else { return [p] }
                return [PageRange(p.start, c.start), PageRange(c.end, p.end)].filter { !$0.isEmpty }
            }
        }
        return pieces
    }
}

extension [PageRange] {
    /// Appends `r`, or extends the last range if `r` starts where it ends.
    mutating func appendJoining(_ r: PageRange) {
        if let last = last, last.end == r.start { self[count - 1].end = r.end } else { append(r) }
    }
}
