import CSupport

/// The kernel backend with munmap done as madvise(MADV_DONTNEED): the pages
/// are dropped, the mapping stays, so a touch after "munmap" reads zeros
/// instead of faulting. The checker's touch after munmap must catch it.
public struct BustedKernelLazyMunmap: BustedTwin, @unchecked Sendable {
    public static let info = Kernel.info.twin(
        name: "busted-kernel-lazy-munmap",
        summary: "munmap done as madvise(MADV_DONTNEED): the pages go, the mapping stays",
        origin: "allocators' release-versus-unmap confusion: a use after munmap reads zeros instead of faulting",
        breaks: .mapping)

    public let base: Kernel
    public init(mm: MM) { base = Kernel(mm: mm) }

    public func perform(_ call: MutationCall) -> MutationResult {
        if case let .munmap(r) = call { return base.unmap(r, release: { vms_discard($0, $1) }) }
        return base.perform(call)
    }
}
