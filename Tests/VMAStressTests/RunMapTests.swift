import Testing
@testable import VMAStress

/// The run map against a byte per page, the representation it replaced in the kernel backend's books.
@Suite("Run map")
struct RunMapTests {
    static let states: [UInt8] = [RunMap.free, 0x81, 0x83, 0x80, 0x40, 0x20, 0xC1]

    /// Random assignments and busy marks; after each, every query agrees with the bytes.
    @Test(arguments: [1, 2, 3])
    func agreesWithABytePerPage(seed: UInt64) {
        let pages: UInt64 = 300
        var rng = RNG(seed: seed)
        var map = RunMap(pages: pages)
        var bytes = [UInt8](repeating: RunMap.free, count: Int(pages))
        for step in 0..<2000 {
            let a = rng.below(pages), n = 1 + rng.below(step % 3 == 0 ? 40 : 8)
            let r = PageRange(a, min(pages, a + n))
            if rng.below(4) == 0 {
                map.update(r) { $0 | 0x40 }
                for p in r.start..<r.end { bytes[Int(p)] |= 0x40 }
            } else {
                let v = Self.states[Int(rng.below(UInt64(Self.states.count)))]
                map.assign(r, v)
                for p in r.start..<r.end { bytes[Int(p)] = v }
            }
            check(map, bytes, &rng)
        }
    }

    func check(_ map: borrowing RunMap, _ bytes: [UInt8], _ rng: inout RNG) {
        let pages = UInt64(bytes.count)
        // The runs cover the reservation, in order, each of one state, neighbours different.
        var runs: [(PageRange, UInt8)] = []
        map.forEachRun(in: PageRange(0, pages)) { runs.append(($0, $1)) }
        #expect(runs.first?.0.start == 0 && runs.last?.0.end == pages)
        for (i, (r, v)) in runs.enumerated() {
            #expect((r.start..<r.end).allSatisfy { bytes[Int($0)] == v })
            if i > 0 { #expect(runs[i - 1].0.end == r.start && runs[i - 1].1 != v, "maximal runs") }
        }
        let p = rng.below(pages)
        #expect(map.value(at: p) == bytes[Int(p)])
        let q = PageRange(rng.below(pages), pages)
        var clipped: [PageRange] = []
        map.forEachRun(in: PageRange(q.start, min(pages, q.start + 20))) { r, _ in clipped.append(r) }
        #expect(clipped.first?.start == q.start && clipped.last?.end == min(pages, q.start + 20))
        let want = Self.states[Int(rng.below(UInt64(Self.states.count)))]
        let r = PageRange(q.start, min(pages, q.start + 1 + rng.below(6)))
        #expect(map.all(r, mask: 0xFF, want: want) == (r.start..<r.end).allSatisfy { bytes[Int($0)] == want })
        let count = 1 + rng.below(12), lo = rng.below(pages), hi = lo + rng.below(pages - lo + 1)
        #expect(map.firstFree(count: count, from: lo, below: hi) == Self.firstFree(bytes, count, lo, hi))
    }

    static func firstFree(_ bytes: [UInt8], _ count: UInt64, _ lo: UInt64, _ hi: UInt64) -> PageRange? {
        var s = lo
        while s + count <= hi {
            if (s..<s + count).allSatisfy({ bytes[Int($0)] == RunMap.free }) { return PageRange(start: s, count: count) }
            s += 1
        }
        return nil
    }

    /// Thousands of mappings: the nodes grow and are reused, and a first fit still finds the one hole.
    @Test func manyRuns() {
        var map = RunMap(pages: 100_000)
        for p in stride(from: UInt64(0), to: 100_000, by: 2) { map.assign(PageRange(p, p + 1), 0x81) }
        #expect(map.firstFree(count: 2, from: 0, below: 100_000) == nil)
        // 100,000 runs made by splitting one: a balanced treap is some 40 deep, a list 100,000.
        #expect(map.runs == 100_000 && map.depth < 80, "depth \(map.depth)")
        map.assign(PageRange(70_001, 70_003), RunMap.free)
        #expect(map.firstFree(count: 2, from: 10, below: 100_000) == PageRange(70_001, 70_003))
        #expect(map.run(containing: 70_002)! == (PageRange(70_001, 70_004), RunMap.free))
        map.assign(PageRange(0, 100_000), RunMap.free)
        #expect(map.firstFree(count: 100_000, from: 0, below: 100_000) == PageRange(0, 100_000))
    }
}
