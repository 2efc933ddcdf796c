import Synchronization

/// The process address space (`mm_struct`): the VMA index, the page tables,
/// the VMA slab and `mmap_lock`. A handle: copies share the same memory;
/// `destroy()` once, after every thread is done.
public struct MM: @unchecked Sendable {
    struct Shared: ~Copyable {
        let nextGen = Atomic<UInt64>(1)
        /// Saturating-refcount underflows seen by writers (REF evidence for the checker).
        let refUnderflows = Atomic<UInt64>(0)
        let lastUnderflowVMA = Atomic<UInt64>(0)
    }

    /// Every page number the model knows: `[0, pages)`.
    public let space: PageRange
    public let mmapLock: RWSem
    public let index: VMAIndex
    public let pageTable: PageTable
    public let vmas: VMAAllocator
    let shared: UnsafeMutablePointer<Shared>

    public init(pages: UInt64, maxVMAs: Int, memory: MemoryPolicy = .system) {
        space = PageRange(0, pages)
        mmapLock = RWSem()
        index = VMAIndex(capacity: maxVMAs, memory: memory)
        pageTable = PageTable(pages: pages, memory: memory)
        vmas = VMAAllocator(capacity: maxVMAs, memory: memory)
        shared = .allocate(capacity: 1)
        shared.initialize(to: Shared())
    }

    /// A generation no VMA has used.
    public func newGen() -> UInt64 { shared.pointee.nextGen.wrappingAdd(1, ordering: .relaxed).oldValue }

    /// Records a refcount underflow on `v` (a REF violation the checker reports).
    public func noteRefUnderflow(_ v: VMAPtr) {
        shared.pointee.lastUnderflowVMA.store(v.id, ordering: .relaxed)
        shared.pointee.refUnderflows.wrappingAdd(1, ordering: .relaxed)
    }

    public var refUnderflows: (count: UInt64, lastVMAID: UInt64) {
        (shared.pointee.refUnderflows.load(ordering: .relaxed),
         shared.pointee.lastUnderflowVMA.load(ordering: .relaxed))
    }

    /// Where the store's memory lives: sampled pages of each region, by node.
    public func residency() -> [MemoryResidency] {
        var tables: [String: Int] = [:]
        for (p, n) in pageTable.regions {
            for (k, v) in NodeMemory.residency(of: p, bytes: n, samples: 1) { tables[k, default: 0] += v }
        }
        return [
            MemoryResidency(region: "vma-records", bytes: vmas.region.1, pages: NodeMemory.residency(of: vmas.region.0, bytes: vmas.region.1)),
            MemoryResidency(region: "vma-index", bytes: index.region.1, pages: NodeMemory.residency(of: index.region.0, bytes: index.region.1)),
            MemoryResidency(region: "page-tables", bytes: pageTable.bytesAllocated, pages: tables),
        ]
    }

    public func destroy() {
        index.destroy()
        pageTable.destroy()
        vmas.destroy()
        mmapLock.destroy()
        shared.deinitialize(count: 1)
        shared.deallocate()
    }
}
