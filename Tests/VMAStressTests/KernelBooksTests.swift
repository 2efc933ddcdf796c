import Testing
@testable import VMAStress

/// The kernel backend's books: a claimed page belongs to one call until it settles it.
@Suite("Kernel books")
struct KernelBooksTests {
    static let rw = KernelBooks.mapped | Prot.readWrite.rawValue, r = KernelBooks.mapped | Prot.read.rawValue

    @Test func aClaimedRangeIsNobodyElses() {
        var books = KernelBooks(pages: 100)
        let fresh = books.claim(PageRange(10, 20), mask: 0xFF, want: KernelBooks.free)
        #expect(fresh)
        let overlapping = books.claim(PageRange(19, 25), mask: 0xFF, want: KernelBooks.free)
        #expect(!overlapping, "overlaps a claim")
        let fit = books.claimFirstFree(count: 15, within: PageRange(0, 100), hint: 5)
        #expect(fit == PageRange(20, 35), "a fit skips the claim")
        books.settle(PageRange(10, 20), to: Self.rw)
        books.settle(PageRange(20, 35), to: Self.r)
        let twoProtections = books.claim(PageRange(12, 30), mask: KernelBooks.mapped, want: KernelBooks.mapped)
        #expect(twoProtections, "mapped, of two protections")
        let stretches = books.claimMapped(in: PageRange(0, 100))
        #expect(stretches == [PageRange(10, 12), PageRange(30, 35)], "less what is claimed")
        books.settle(PageRange(12, 30), to: Self.rw)
        books.settle(PageRange(10, 12), to: Self.rw)
        // 10-30 is one run of rw now; 30-35 stays claimed.
        let move = books.claimMove(15, within: PageRange(50, 100), hint: 60)
        #expect(move.map { [$0.0, $0.2] } == [PageRange(10, 30), PageRange(60, 80)] && move?.1 == Self.rw)
        let ontoAClaim = books.claimMove(32, within: PageRange(50, 100), hint: 60)
        #expect(ontoAClaim == nil, "the page is claimed")
        #expect(books.state(at: 15) == Self.rw && books.state(at: 5) == KernelBooks.free)
    }

    @Test func keptLeavesOutWhatIsLost() {
        var books = KernelBooks(pages: 50)
        books.settle(PageRange(5, 10), to: Self.rw)
        books.settle(PageRange(20, 22), to: KernelBooks.lost)
        #expect(books.kept() == [PageRange(0, 20), PageRange(22, 50)])
    }
}
