import CSupport
import Foundation

/// The write side of `vmastress calibrate`: the host kernel's cost per call of mmap, munmap
/// (will-it-scale's mmap1 shape), mprotect (a split or a merge a call), mremap (one page
/// moved with its PTE) and of the cheapest system call, beside the model's own cost of the
/// same calls on per-vma-refcount (the design this kernel runs, as the fault side calibrates
/// on the per-VMA lock), one thread. The `--mutation-work` it suggests makes up the
/// difference: the system call's entry and exit before mmap_lock, the rest inside. The older
/// designs' write sides then cost less than the kernel's by what their protocols save.
public struct MutationCalibration: Codable, Sendable {
    /// ns per call of each kind: the kernel's, the bare model's, and the model's with the suggestion.
    public var kernel: [String: Double]
    public var model: [String: Double]
    public var after: [String: Double]
    public var suggested: MutationWork
    public var interrupted: Bool

    static let measured: [MutationWork.Kind] = [.map, .unmap, .protect, .remap]
    static let strategy = "per-vma-refcount"

    public static func run(seconds: Double, say: (String) -> Void) throws -> MutationCalibration {
        var out = [Double](repeating: 0, count: Int(VMS_MUTATION_KINDS))
        let err = out.withUnsafeMutableBufferPointer { vms_kernel_mutation_costs(UInt64(seconds * 1e9), $0.baseAddress) }
        guard err == 0 else {
            throw Calibration.Failed(description: "kernel mutations: \(String(cString: strerror(err)))")
        }
        var kernel: [MutationWork.Kind: Double] = [:]
        for k in MutationWork.Kind.allCases { kernel[k] = out[Int(k.cKind)] }
        say("kernel, one thread: " + describe(kernel, with: .syscall))
        let nsPerTick = Clock.calibrateTicks()
        let bare = modelCosts(.none, seconds: seconds, nsPerTick: nsPerTick)
        say("model \(strategy), --mutation-work none: " + describe(bare))
        let syscall = kernel[.syscall] ?? 0
        var work: [MutationWork.Kind: UInt64] = [.syscall: UInt64(syscall.rounded())]
        for k in measured {
            work[k] = UInt64(max(0, (kernel[k] ?? 0) - syscall - (bare[k] ?? 0)).rounded())
        }
        let suggested = MutationWork(work)
        let after = modelCosts(suggested, seconds: seconds, nsPerTick: nsPerTick)
        say("model \(strategy), --mutation-work \(suggested): " + describe(after))
        func named(_ d: [MutationWork.Kind: Double]) -> [String: Double] {
            Dictionary(uniqueKeysWithValues: d.map { ($0.key.rawValue, $0.value) })
        }
        return MutationCalibration(kernel: named(kernel), model: named(bare), after: named(after), suggested: suggested,
                                   interrupted: vms_stop_signal() != 0)
    }

    /// The model's ns per call of each measured kind: the same loops as the kernel's, on a
    /// fresh mm under per-vma-refcount (memb RCU, B-tree), this thread alone.
    static func modelCosts(_ work: MutationWork, seconds: Double, nsPerTick: Double) -> [MutationWork.Kind: Double] {
        work.install(nsPerTick: nsPerTick)
        defer { MutationWork.none.install(nsPerTick: 1) }
        let pages: UInt64 = 2 * (128 << 20) / 4096
        let mm = MM(pages: pages, maxVMAs: 64, index: .btree)
        let s = PerVMARefcount<MembRCU>(mm: mm)
        let scratch = WorkerStats(name: "calibrate", role: .mutator, index: 0)
        var ctx = scratch.faultContext()
        s.threadStart(&ctx)
        defer {
            // Every deferred free has run before the mm goes.
            s.threadStop(&ctx)
            s.quiesce()
            s.shutdown()
            mm.destroy()
        }
        let all = PageRange(0, pages)
        var spent: [MutationWork.Kind: UInt64] = [:], calls: [MutationWork.Kind: UInt64] = [:]
        func timed(_ k: MutationWork.Kind, _ body: () -> MutationResult) -> MutationResult {
            let t0 = Clock.nanos()
            let r = body()
            spent[k, default: 0] += Clock.nanos() - t0
            calls[k, default: 0] += 1
            return r
        }
        func loop(_ body: () -> Void) {
            let until = Clock.nanos() + UInt64(seconds * 1e9)
            while Clock.nanos() < until, vms_stop_signal() == 0 { body() }
        }
        loop {
            let r = timed(.map) { s.perform(.mmap(count: pages / 2, prot: .readWrite, within: all, hint: 0)) }
            if let gap = r.touched.first { _ = timed(.unmap) { s.perform(.munmap(gap)) } }
        }
        _ = s.perform(.mmapFixed(PageRange(0, 3), .readWrite, flags: 0))
        loop {
            _ = timed(.protect) { s.perform(.mprotect(PageRange(1, 2), .read)) }
            _ = timed(.protect) { s.perform(.mprotect(PageRange(1, 2), .readWrite)) }
        }
        _ = s.perform(.munmap(PageRange(0, 3)))
        _ = s.perform(.mmapFixed(PageRange(0, 1), .readWrite, flags: 0))
        var at: UInt64 = 0
        loop {
            let to: UInt64 = at == 0 ? 2 : 0
            _ = timed(.remap) { s.perform(.mremap(vmaAt: at, within: PageRange(to, to + 1), hint: to)) }
            at = to
        }
        var ns: [MutationWork.Kind: Double] = [:]
        for (k, n) in calls where n > 0 { ns[k] = Double(spent[k] ?? 0) / Double(n) }
        return ns
    }

    static func describe(_ ns: [MutationWork.Kind: Double], with extra: MutationWork.Kind? = nil) -> String {
        (measured + (extra.map { [$0] } ?? [])).map { k in "\(k.rawValue) \(Int((ns[k] ?? 0).rounded())) ns" }
            .joined(separator: ", ")
    }
}
