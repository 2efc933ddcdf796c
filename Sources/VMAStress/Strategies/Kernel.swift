import CSupport
import Glibc
import Synchronization

/// `kernel`: the host kernel itself, measured with the model's workloads.
/// The run reserves an address range of its own (PROT_NONE, MAP_NORESERVE)
/// as large as the model's address space; page `p` is the byte at
/// `base + p * 4096`. Faults are real: a worker touches the page (a read,
/// or a locked OR of zero, which needs a writable PTE and changes nothing)
/// and a SIGSEGV comes back as a result (`vms_touch`). Mutations are real
/// system calls on the reservation, serialised only by the kernel's own
/// locks; this process's mm_struct is the one they contend on.
///
/// Nothing it does can touch the harness's memory: it maps only over its
/// own reservation (MAP_FIXED), and "munmap" replaces a range with a
/// PROT_NONE placeholder in one call (MAP_FIXED over it: the kernel's
/// munmap work, unmap, zap and free, then a new VMA) so that no other mmap
/// can land inside the reservation. mremap leaves its source unmapped for
/// an instant; the source is reserved again at once (MAP_FIXED_NOREPLACE),
/// and a range something else took meanwhile is never used again.
///
/// The books of which page is mapped with what (`pageState`, under one
/// mutex held only around the search, never across a system call) pick
/// first fits as the model does and keep mprotect and munmap on the
/// backend's own mappings.
public struct Kernel: Strategy, @unchecked Sendable {
    public static let info = StrategyInfo(
        name: "kernel",
        summary: "the host kernel: real page faults, mmap, munmap, mprotect and mremap in this process",
        origin: "the running kernel (Linux 6.4+: per-VMA locks; 6.15+: on a reference count)",
        indexes: [.btree], capabilities: .hostKernel)

    public let mm: MM
    let state: UnsafeMutablePointer<State>

    /// A page's state byte: `free` (our placeholder), `lost` (something else
    /// mapped there while it was unmapped), or `mapped | prot`, with `busy`
    /// while a call on it is in flight.
    static let free: UInt8 = 0, mapped: UInt8 = 0x80, busy: UInt8 = 0x40, lost: UInt8 = 0x20

    struct State: ~Copyable {
        let base: UnsafeMutableRawPointer?
        let pages: UInt64
        let pageState: UnsafeMutablePointer<UInt8>
        let books = Mutex<Void>(())
        let findings = Mutex<[Finding]>([])
        /// Mutations so far, to sample the checks after munmap and mprotect.
        let calls = Atomic<UInt64>(0)

        init(pages: UInt64) {
            self.pages = pages
            base = vms_reserve(pages * Kernel.pageBytes)
            pageState = .allocate(capacity: Int(pages))
            pageState.initialize(repeating: Kernel.free, count: Int(pages))
        }
    }

    static let pageBytes: UInt64 = 4096
    /// One munmap or mprotect in this many is followed by a touch that must fault.
    static let checkEvery: UInt64 = 4

    public init(mm: MM) {
        self.mm = mm
        vms_touch_install()
        state = .allocate(capacity: 1)
        state.initialize(to: State(pages: mm.space.count))
    }

    @inline(__always)
    func address(_ page: UInt64) -> UnsafeMutableRawPointer? { state.pointee.base.map { $0 + Int(page * Self.pageBytes) } }

    // MARK: The read side: a touch.

    /// A touch that returns is `present` (whether the kernel faulted is in
    /// the threads' minor-fault counts); a SIGSEGV on a free page is `noVMA`
    /// (the placeholder stands for a hole), on a mapped page `accessDenied`.
    @inline(__always)
    public func fault(_ page: UInt64, write: Bool, _ ctx: inout FaultContext) -> FaultResult {
        guard let a = address(page) else { return .noVMA }
        switch vms_touch(a, write ? 1 : 0) {
        case Int32(VMS_TOUCH_OK): return .present
        // A racy read of the books (a mutator may be changing the page): it only names the SIGSEGV.
        case Int32(VMS_TOUCH_ACCESS) where state.pointee.pageState[Int(page)] & Self.mapped != 0: return .accessDenied
        default: return .noVMA
        }
    }

    // MARK: The write side: system calls.

    /// The model's hooks are never called (`perform` replaces the mutations); the classic ones keep it whole.
    public func mmWriteLock() { mm.mmapLock.writeLock() }
    public func mmWriteUnlock() { mm.mmapLock.writeUnlock() }

    public func perform(_ call: MutationCall) -> MutationResult {
        guard state.pointee.base != nil else { return .failed(.noMemory) }
        switch call {
        case let .mmapFixed(r, prot, _):
            guard claim(r, mask: 0xFF, want: Self.free) else { return .failed(.noSpace) }
            return map(r, prot)
        case let .mmap(count, prot, within, hint, file):
            guard let gap = claimFirstFit(count: count, within: within, hint: hint) else { return .failed(.noSpace) }
            mm.probes.announce(gap)
            return map(gap, prot, file)
        case let .munmap(r):
            return unmap(r, release: { vms_placeholder($0, $1, 0) })
        case let .mprotect(r, prot):
            // Mapped and not in another call's hands (a munmap's check, another mprotect's).
            guard claim(r, mask: Self.mapped | Self.busy, want: Self.mapped) else { return .failed(.noTarget) }
            mm.probes.announce(r)
            return protect(r, prot)
        case let .mremap(page, within, hint):
            return move(page, within: within, hint: hint)
        case .takeAllLocks:
            // mm_take_all_locks has no system call: counted as failed, not run.
            return .failed(.noTarget)
        }
    }

    private func map(_ r: PageRange, _ prot: Prot, _ file: MappedFile = .anonymous) -> MutationResult {
        let err = vms_map_over(address(r.start), r.count * Self.pageBytes, Int32(prot.rawValue), file.fd, file.shared ? 1 : 0)
        // A MAP_FIXED that fails may have unmapped the placeholder already: never used again.
        settle(r, to: err == 0 ? Self.mapped | prot.rawValue : Self.lost)
        return err == 0 ? MutationResult(status: .done, touched: [r]) : .failed(.noMemory)
    }

    /// munmap of every run of this backend's mappings inside `r`: `release`
    /// replaces each with a placeholder in one call; then (sampled) a touch
    /// of the run's first page, which must fault.
    func unmap(_ r: PageRange, release: (UnsafeMutableRawPointer?, UInt64) -> Int32) -> MutationResult {
        let runs = claimRuns(in: r)
        guard !runs.isEmpty else { return .failed(.noTarget) }
        mm.probes.announce(r)
        let check = sampled()
        for run in runs {
            let err = release(address(run.start), run.count * Self.pageBytes)
            if err == 0 && check && vms_touch(address(run.start), 0) == Int32(VMS_TOUCH_OK) {
                note(Finding(.mapping, page: run.start, expected: "after munmap of \(run) returns, a touch of page \(run.start) is SIGSEGV",
                             seen: "the read succeeded"))
            }
            // A failed call leaves the mapping as it was; the books cannot tell what it has, so it is not used again.
            settle(run, to: err == 0 ? Self.free : Self.lost)
        }
        return MutationResult(status: .done, touched: runs)
    }

    /// mprotect; then (sampled) a write to a page made read-only, or a read
    /// of one made inaccessible, which must fault.
    private func protect(_ r: PageRange, _ prot: Prot) -> MutationResult {
        let err = vms_protect(address(r.start), r.count * Self.pageBytes, Int32(prot.rawValue))
        if err == 0 && sampled() && !prot.contains(.write) {
            let write = prot.contains(.read)
            if vms_touch(address(r.start), write ? 1 : 0) == Int32(VMS_TOUCH_OK) {
                note(Finding(.mapping, page: r.start,
                             expected: "after mprotect(\(prot)) of \(r) returns, a \(write ? "write" : "read") of page \(r.start) is SIGSEGV",
                             seen: "the \(write ? "write" : "read") succeeded"))
            }
        }
        // On failure the range may be partly changed: the books cannot tell, so it is not used again.
        settle(r, to: err == 0 ? Self.mapped | prot.rawValue : Self.lost)
        return err == 0 ? MutationResult(status: .done, touched: [r]) : .failed(.noTarget)
    }

    /// mremap of the run of one protection holding `page` to the first fit
    /// from `hint` (over the backend's placeholder there); the source is
    /// reserved again at once.
    private func move(_ page: UInt64, within: PageRange, hint: UInt64) -> MutationResult {
        guard let (src, value, dst) = claimMove(page, within: within, hint: hint) else { return .failed(.noTarget) }
        mm.probes.announce(dst)
        let bytes = src.count * Self.pageBytes
        let err = vms_remap_to(address(src.start), bytes, address(dst.start))
        guard err == 0 else {
            // EFAULT: the run spans two VMAs the kernel did not merge. Nothing moved.
            settle(src, to: value)
            settle(dst, to: Self.free)
            return .failed(.noTarget)
        }
        let again = vms_placeholder(address(src.start), bytes, 1)
        settle(dst, to: value)
        settle(src, to: again == 0 ? Self.free : Self.lost)
        return MutationResult(status: .done, touched: [src, dst])
    }

    // MARK: The books.

    /// Marks `r` busy if every page's state & mask is want.
    private func claim(_ r: PageRange, mask: UInt8, want: UInt8) -> Bool {
        let s = state.pointee.pageState
        return state.pointee.books.withLock { _ in
            guard r.start < r.end, r.end <= state.pointee.pages,
                  Self.firstMismatch(s, from: Int(r.start), to: Int(r.end), mask: mask, want: want) == Int(r.end) else { return false }
            for p in Int(r.start)..<Int(r.end) { s[p] |= Self.busy }
            return true
        }
    }

    private func claimFirstFit(count: UInt64, within: PageRange, hint: UInt64) -> PageRange? {
        let s = state.pointee.pageState
        return state.pointee.books.withLock { _ -> PageRange? in
            guard let gap = firstFit(count: count, within: within, hint: hint) else { return nil }
            (s + Int(gap.start)).update(repeating: Self.busy, count: Int(gap.count))
            return gap
        }
    }

    /// The runs of mapped pages (not busy) inside `r`, marked busy.
    private func claimRuns(in r: PageRange) -> [PageRange] {
        let s = state.pointee.pageState
        return state.pointee.books.withLock { _ in
            var runs: [PageRange] = []
            let end = Int(min(r.end, state.pointee.pages)), mask = Self.mapped | Self.busy
            var p = Int(r.start)
            while p < end {
                guard s[p] & mask == Self.mapped else { p += 1; continue }
                let e = Self.firstMismatch(s, from: p, to: end, mask: mask, want: Self.mapped)
                runs.append(PageRange(UInt64(p), UInt64(e)))
                for q in p..<e { s[q] |= Self.busy }
                p = e
            }
            return runs
        }
    }

    private func claimMove(_ page: UInt64, within: PageRange, hint: UInt64) -> (PageRange, UInt8, PageRange)? {
        let s = state.pointee.pageState
        return state.pointee.books.withLock { _ -> (PageRange, UInt8, PageRange)? in
            guard page < state.pointee.pages else { return nil }
            let value = s[Int(page)]
            guard value & (Self.mapped | Self.busy) == Self.mapped else { return nil }
            var a = page, b = page + 1
            while a > 0 && s[Int(a - 1)] == value { a -= 1 }
            while b < state.pointee.pages && s[Int(b)] == value { b += 1 }
            let src = PageRange(a, b)
            guard let dst = firstFit(count: src.count, within: within, hint: hint) else { return nil }
            for p in src.start..<src.end { s[Int(p)] |= Self.busy }
            for p in dst.start..<dst.end { s[Int(p)] = Self.busy }
            return (src, value, dst)
        }
    }

    /// The first `count` free pages from `hint`, wrapping to `within.start`. Caller holds `books`.
    private func firstFit(count: UInt64, within: PageRange, hint: UInt64) -> PageRange? {
        let s = state.pointee.pageState
        let end = Int(min(within.end, state.pointee.pages)), n = Int(count)
        func scan(_ from: Int, _ to: Int) -> PageRange? {
            var p = from
            while p + n <= to {
                // A used page inside the window: the next window starts after it.
                let used = Self.firstMismatch(s, from: p, to: p + n, mask: 0xFF, want: Self.free)
                if used == p + n { return PageRange(UInt64(p), UInt64(p + n)) }
                p = used + 1
            }
            return nil
        }
        let h = max(Int(within.start), min(Int(hint), end))
        return scan(h, end) ?? scan(Int(within.start), min(end, h + n - 1))
    }

    /// The first page in [from, to) whose state & mask is not want (to if none),
    /// eight pages at a time: the books of a 128 MiB mapping are 32768 bytes.
    private static func firstMismatch(_ s: UnsafeMutablePointer<UInt8>, from: Int, to: Int, mask: UInt8, want: UInt8) -> Int {
        let wideMask = UInt64(mask) &* 0x0101_0101_0101_0101, wideWant = UInt64(want) &* 0x0101_0101_0101_0101
        var p = from
        while p + 8 <= to {
            let w = UInt64(littleEndian: UnsafeRawPointer(s + p).loadUnaligned(as: UInt64.self))
            let diff = (w & wideMask) ^ wideWant
            // In little-endian order the lowest differing byte is the first page.
            if diff != 0 { return p + diff.trailingZeroBitCount / 8 }
            p += 8
        }
        while p < to && s[p] & mask == want { p += 1 }
        return p
    }

    private func settle(_ r: PageRange, to value: UInt8) {
        let s = state.pointee.pageState
        state.pointee.books.withLock { _ in (s + Int(r.start)).update(repeating: value, count: Int(r.count)) }
    }

    private func sampled() -> Bool {
        state.pointee.calls.wrappingAdd(1, ordering: .relaxed).newValue % Self.checkEvery == 0
    }

    private func note(_ f: Finding) { state.pointee.findings.withLock { $0.append(f) } }

    public func takeFindings() -> [Finding] { state.pointee.findings.withLock { f in defer { f = [] }; return f } }

    /// Unmaps the reservation, except ranges something else took.
    public func shutdown() {
        if let base = state.pointee.base {
            let s = state.pointee.pageState
            var p: UInt64 = 0
            while p < state.pointee.pages {
                var e = p
                while e < state.pointee.pages && s[Int(e)] != Self.lost { e += 1 }
                if e > p { _ = vms_unmap(base + Int(p * Self.pageBytes), (e - p) * Self.pageBytes) }
                p = e + 1
            }
        }
        state.pointee.pageState.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }
}
