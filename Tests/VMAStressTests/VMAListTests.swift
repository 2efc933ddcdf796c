import Testing
@testable import VMAStress

/// The ordered list's B+tree against a plain sorted array: the same VMAs,
/// neighbours and free ranges through thousands of inserts, erases and
/// resizes, with its own audit clean after each.
@Suite("VMA list: B+tree with gaps")
struct VMAListTests {
    /// Detached records made here, freed by `free`.
    final class Records {
        var all: [VMAPtr] = []
        func make(_ r: PageRange) -> VMAPtr {
            let v = VMAPtr.allocate(capacity: 1)
            v.initialize(to: VMA())
            v.setStart(r.start)
            v.setEnd(r.end)
            all.append(v)
            return v
        }
        func free() { for v in all { v.deinitialize(count: 1); v.deallocate() } }
    }

    /// The lowest free `[c, c + count)` in `model`, walked one VMA at a time (the list's old search).
    static func linearGap(_ model: [VMAPtr], count: UInt64, from: UInt64, below: UInt64) -> PageRange? {
        var c = from
        var i = model.firstIndex { $0.end > c } ?? model.count
        while c + count <= below {
            let nextStart = i < model.count ? model[i].start : UInt64.max
            if min(nextStart, below) >= c + count { return PageRange(start: c, count: count) }
            c = max(c, model[i].end)
            i += 1
        }
        return nil
    }

    @Test func followsASortedArrayThroughRandomChurn() {
        let list = VMAList()
        let records = Records()
        defer { list.destroy(); records.free() }
        var model: [VMAPtr] = []
        var rng = RNG(seed: 7)
        let space: UInt64 = 1 << 16
        for step in 0..<20_000 {
            // Grow to a few thousand VMAs, then shrink back, so nodes split and merge at every level.
            let growing = step < 12_000 ? rng.below(10) < 7 : rng.below(10) < 3
            let page = rng.below(space - 40)
            if growing {
                let len = 1 + rng.below(8)
                let i = model.firstIndex { $0.end > page } ?? model.count
                if i == model.count || model[i].start >= page + len {
                    let v = records.make(PageRange(page, page + len))
                    list.insert(v)
                    model.insert(v, at: i)
                }
            } else if !model.isEmpty {
                let i = Int(rng.below(UInt64(model.count)))
                let v = model[i]
                if rng.below(3) == 0 {
                    // Shrink it from either end, as a split does, and tell the list.
                    guard v.end - v.start > 1 else { continue }
                    let old = v.start
                    if rng.below(2) == 0 { v.setEnd(v.end - 1) } else { v.setStart(v.start + 1) }
                    list.refresh(v, oldStart: old)
                } else {
                    #expect(list.erase(v))
                    model.remove(at: i)
                }
            }
            if step % 500 == 0 || step == 19_999 {
                let problems = list.audit()
                #expect(problems.isEmpty, "step \(step): \(problems.prefix(3))")
                #expect(list.all == model, "step \(step): the list's order differs from the array's")
                if !problems.isEmpty { return }
            }
            let probe = rng.below(space)
            let expected = model.first { $0.end > probe }
            #expect(list.first(endingAfter: probe) == expected, "step \(step): first ending after \(probe)")
            if let e = expected {
                let i = model.firstIndex(of: e)!
                #expect(list.next(after: e) == (i + 1 < model.count ? model[i + 1] : nil))
            }
            let count = 1 + rng.below(64), below = min(space, probe + rng.below(4096))
            #expect(list.firstGap(count: count, from: probe, below: below)
                        == Self.linearGap(model, count: count, from: probe, below: below),
                    "step \(step): a gap of \(count) from \(probe) below \(below)")
        }
        #expect(list.count == model.count)
    }

    @Test func walksFromTheVMABeforeAPage() {
        let list = VMAList()
        let records = Records()
        defer { list.destroy(); records.free() }
        let vmas = (0..<200).map { records.make(PageRange(UInt64($0) * 10, UInt64($0) * 10 + 5)) }
        for v in vmas.reversed() { list.insert(v) }
        var seen: [VMAPtr] = []
        list.forEach(from: 503, withPrevious: true) { seen.append($0); return seen.count < 3 }
        #expect(seen == [vmas[49], vmas[50], vmas[51]])
        seen = []
        list.forEach(from: 5_000, withPrevious: true) { seen.append($0); return true }
        #expect(seen == [vmas[199]], "nothing ends past the page: the walk starts at the last VMA")
        #expect(list.find(1_003) == vmas[100] && list.find(1_007) == nil)
    }

    /// A list that says a VMA is elsewhere than it is fails its audit.
    @Test func auditCatchesAStaleKey() {
        let list = VMAList()
        let records = Records()
        defer { list.destroy(); records.free() }
        let vmas = (0..<100).map { records.make(PageRange(UInt64($0) * 4, UInt64($0) * 4 + 2)) }
        for v in vmas { list.insert(v) }
        #expect(list.audit().isEmpty)
        vmas[40].setEnd(vmas[40].end + 1)
        #expect(list.audit().contains { $0.contains("the VMA is") })
        list.refresh(vmas[40])
        #expect(list.audit().isEmpty)
    }
}
