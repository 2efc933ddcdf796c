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
/// The books of which page is mapped with what (`KernelBooks`, O(log n) a
/// call, under one mutex held only around the search, never across a system
/// call) pick first fits as the model does and keep mprotect and munmap on
/// the backend's own mappings.
public struct Kernel: Strategy, @unchecked Sendable {
    public static let info = StrategyInfo(
        name: "kernel",
        summary: "the host kernel: real page faults, mmap, munmap, mprotect and mremap in this process",
        origin: "the running kernel (Linux 6.4+: per-VMA locks; 6.15+: on a reference count)",
        indexes: [.btree], capabilities: .hostKernel)

    public let mm: MM
    let state: UnsafeMutablePointer<State>

    static let free = KernelBooks.free, mapped = KernelBooks.mapped, lost = KernelBooks.lost

    struct State: ~Copyable {
        let base: UnsafeMutableRawPointer?
        let pages: UInt64
        let books: Mutex<KernelBooks>
        let findings = Mutex<[Finding]>([])
        /// Mutations so far, to sample the checks after munmap and mprotect.
        let calls = Atomic<UInt64>(0)

        init(pages: UInt64) {
            self.pages = pages
            base = vms_reserve(pages * Kernel.pageBytes)
            books = Mutex(KernelBooks(pages: pages))
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
        // The books may be changing under a mutator: they only name the SIGSEGV.
        case Int32(VMS_TOUCH_ACCESS) where state.pointee.books.withLock({ $0.state(at: page) }) & Self.mapped != 0: return .accessDenied
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
            guard claim(r, mask: Self.mapped, want: Self.mapped) else { return .failed(.noTarget) }
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
            if err == 0 && check {
                mm.evidence.noteCallChecked()
                if vms_touch(address(run.start), 0) == Int32(VMS_TOUCH_OK) {
                    note(Finding(.mapping, page: run.start, expected: "after munmap of \(run) returns, a touch of page \(run.start) is SIGSEGV",
                                 seen: "the read succeeded"))
                }
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
            mm.evidence.noteCallChecked()
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

    private func claim(_ r: PageRange, mask: UInt8, want: UInt8) -> Bool {
        state.pointee.books.withLock { $0.claim(r, mask: mask, want: want) }
    }

    private func claimFirstFit(count: UInt64, within: PageRange, hint: UInt64) -> PageRange? {
        state.pointee.books.withLock { $0.claimFirstFree(count: count, within: within, hint: hint) }
    }

    private func claimRuns(in r: PageRange) -> [PageRange] {
        state.pointee.books.withLock { $0.claimMapped(in: r) }
    }

    private func claimMove(_ page: UInt64, within: PageRange, hint: UInt64) -> (PageRange, UInt8, PageRange)? {
        state.pointee.books.withLock { $0.claimMove(page, within: within, hint: hint) }
    }

    private func settle(_ r: PageRange, to value: UInt8) {
        state.pointee.books.withLock { $0.settle(r, to: value) }
    }

    private func sampled() -> Bool {
        state.pointee.calls.wrappingAdd(1, ordering: .relaxed).newValue % Self.checkEvery == 0
    }

    private func note(_ f: Finding) { state.pointee.findings.withLock { $0.append(f) } }

    public func takeFindings() -> [Finding] { state.pointee.findings.withLock { f in defer { f = [] }; return f } }

    /// Unmaps the reservation, except ranges something else took.
    public func shutdown() {
        if let base = state.pointee.base {
            let keep = state.pointee.books.withLock { $0.kept() }
            for r in keep { _ = vms_unmap(base + Int(r.start * Self.pageBytes), r.count * Self.pageBytes) }
        }
        state.deinitialize(count: 1)
        state.deallocate()
    }
}
