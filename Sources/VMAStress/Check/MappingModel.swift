import Synchronization

/// MAPPING's reference: what should be mapped where, with which protection,
/// kept as one byte per page and stepped with every mutation that completes,
/// from the call's own arguments (the way the kernel's tools/testing/vma
/// checks merges and splits against expectations). It knows nothing of
/// VMAs, trees or merges: only pages. mmap's and mremap's destination is
/// first-fit from the hint, as `get_unmapped_area` finds it, computed here
/// on the page map; mremap's source is the range the call reports (the
/// model cannot tell VMA boundaries), checked to be mapped and uniform.
///
/// Mutators step it under `lock` together with the call itself, so the
/// model sees the mutations in the order the mm did.
public final class MappingModel: @unchecked Sendable {
    /// Bit 7: mapped; the low bits: the protection.
    private var pages: [UInt8]
    private static let mapped: UInt8 = 0x80
    public let lock = Mutex<Void>(())
    /// After its first finding the model no longer says what the store
    /// should hold (it and the store went separate ways): it reports once.
    private var diverged = false

    public init(pages: UInt64) {
        self.pages = [UInt8](repeating: 0, count: Int(pages))
    }

    /// A call the model follows. `result` is the store's answer.
    public typealias Call = MutationCall

    /// Steps the model through `call`, which the store answered with
    /// `result`; returns what disagrees about the call's own outcome (a
    /// mapping placed elsewhere than first fit, a move of an unmapped range).
    /// The caller holds `lock`.
    public func apply(_ call: Call, _ result: MutationResult) -> [Finding] {
        let found = step(call, result)
        if !found.isEmpty { diverged = true }
        return found
    }

    private func step(_ call: Call, _ result: MutationResult) -> [Finding] {
        guard result.status == .done, !diverged else { return [] }
        switch call {
        case .takeAllLocks:
            return []
        case let .mmapFixed(r, prot, _):
            return map(expected: r, got: result.touched.first, prot: prot, what: "mmap(MAP_FIXED_NOREPLACE)")
        case let .mmap(count, prot, within, hint, _):
            return map(expected: firstFit(count: count, within: within, hint: hint), got: result.touched.first,
                       prot: prot, what: "mmap of \(count) page(s) from hint \(hint)")
        case let .munmap(r):
            for p in r.start..<r.end { pages[Int(p)] = 0 }
            return []
        case let .mprotect(r, prot):
            for p in r.start..<r.end where pages[Int(p)] & Self.mapped != 0 { pages[Int(p)] = Self.mapped | prot.rawValue }
            return []
        case let .mremap(page, within, hint):
            guard result.touched.count == 2 else { return [Finding(.mapping, expected: "mremap reports its source and destination", seen: "\(result.touched)")] }
            let old = result.touched[0]
            let value = pages[Int(old.start)]
            guard old.contains(page), value & Self.mapped != 0,
                  (old.start..<old.end).allSatisfy({ pages[Int($0)] == value }) else {
                return [Finding(.mapping, page: page, expected: "mremap moves a mapped range of one protection that holds page \(page)",
                                seen: "it moved \(old), which the model has as " + describe(old))]
            }
            let expected = firstFit(count: old.count, within: within, hint: hint)
            guard let expected, expected == result.touched[1] else {
                return [Finding(.mapping, page: page, expected: "mremap of \(old) lands at the first fit from hint \(hint): \(expected.map { "\($0)" } ?? "none")",
                                seen: "it landed at \(result.touched[1])")]
            }
            for p in old.start..<old.end { pages[Int(p)] = 0 }
            for p in expected.start..<expected.end { pages[Int(p)] = value }
            return []
        }
    }

    private func map(expected: PageRange?, got: PageRange?, prot: Prot, what: String) -> [Finding] {
        guard let expected, expected == got else {
            return [Finding(.mapping, page: got?.start, expected: "\(what) maps \(expected.map { "\($0)" } ?? "nothing (no room)")",
                            seen: "it mapped \(got.map { "\($0)" } ?? "nothing")")]
        }
        for p in expected.start..<expected.end { pages[Int(p)] = Self.mapped | prot.rawValue }
        return []
    }

    /// get_unmapped_area on the page map: the lowest free run of `count`
    /// pages from the hint upward, else from the start of `within`.
    func firstFit(count: UInt64, within: PageRange, hint: UInt64) -> PageRange? {
        guard count > 0, count <= within.count else { return nil }
        let from = min(max(hint, within.start), within.end - count)
        return fit(count, from: from, below: within.end)
            ?? fit(count, from: within.start, below: min(within.end, from + count))
    }

    private func fit(_ count: UInt64, from: UInt64, below: UInt64) -> PageRange? {
        var run: UInt64 = 0
        var p = from
        while p < below {
            run = pages[Int(p)] & Self.mapped == 0 ? run + 1 : 0
            p += 1
            if run == count { return PageRange(p - count, p) }
        }
        return nil
    }

    private func describe(_ r: PageRange) -> String {
        let values = Set((r.start..<r.end).map { pages[Int($0)] })
        return values.map { $0 & Self.mapped == 0 ? "unmapped" : Prot(rawValue: $0 & 0x7F).description }.sorted().joined(separator: " and ")
    }

    /// MAPPING: every page of `range` (the whole space when nil) is mapped
    /// in the store exactly when the model has it mapped, with the model's
    /// protection. The caller holds `lock` and excludes the mm's writers.
    public func compare(_ mm: MM, in range: PageRange? = nil) -> [Finding] {
        guard !diverged else { return [] }
        let found = difference(mm, in: range ?? mm.space)
        if !found.isEmpty { diverged = true }
        return found
    }

    private func difference(_ mm: MM, in r: PageRange) -> [Finding] {
        var next = mm.list.first(endingAfter: r.start)
        var p = r.start
        while p < r.end {
            let v: VMAPtr? = next.flatMap { $0.start <= p ? $0 : nil }
            let model = pages[Int(p)]
            let store: UInt8 = v.map { Self.mapped | $0.prot.rawValue } ?? 0
            if model != store {
                return [Finding(.mapping, vma: v.map(VMAIdentity.init), page: p,
                                expected: "page \(p) " + (model & Self.mapped == 0 ? "unmapped" : "mapped \(Prot(rawValue: model & 0x7F))")
                                    + ", as the completed mmap, munmap, mprotect and mremap calls left it",
                                seen: v.map { "mapped \($0.prot) by VMA \(VMAIdentity($0).text)" } ?? "unmapped")]
            }
            p += 1
            if let v, p >= v.end { next = mm.list.next(after: v) }
        }
        return []
    }
}
