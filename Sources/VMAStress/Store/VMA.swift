import Synchronization

/// A VMA record (`vm_area_struct`), in manually managed memory owned by `VMAAllocator`.
///
/// Speculative readers load fields while writers change them, so every field
/// is an atomic. Writers change fields only inside the strategy's VMA write
/// section (`WriteSide.vmaWriteBegin`), which for the SPF family is the VMA
/// seqcount; relaxed loads and stores suffice because that seqcount (or a lock)
/// provides the ordering.
public struct VMA: ~Copyable {
    public let start = Atomic<UInt64>(0)
    public let end = Atomic<UInt64>(0)
    /// The rbtree's links (lib/rbtree.c), embedded as in `vm_rb`, in the
    /// first cache line beside the keys, as in Linux before 6.1 ("The first
    /// cache line has the info for VMA tree walking"): a walk reads one line
    /// per level. Children are stored with release so a lockless walker sees
    /// initialised nodes; parent and colour are the writers' alone.
    public let rbLeft = Atomic<VMAPtr?>(nil)
    public let rbRight = Atomic<VMAPtr?>(nil)
    public let rbParent = Atomic<VMAPtr?>(nil)
    public let rbRed = Atomic<Bool>(false)
    public let prot = Atomic<UInt8>(0)
    /// Merge-compatibility flags (neighbours merge only when prot and flags match).
    public let flags = Atomic<UInt32>(0)
    /// Stamped into the PTEs this VMA installs. Pieces of a split keep it; a
    /// merge re-stamps the absorbed piece's PTEs; mremap gets a new one.
    public let gen = Atomic<UInt64>(0)
    /// Unique per allocation: tells one use of this memory from the next.
    public let id = Atomic<UInt64>(0)
    /// `VMA.liveTag(id)` while allocated, `VMA.poison` once freed
    /// (`VMA.typeSafeFree` in a type-safe cache, where a reader may still read it).
    public let tag = Atomic<UInt64>(0)
    /// `vm_mm`: the identity of the mm it belongs to (`MMCache`).
    public let owner = Atomic<UInt64>(0)
    /// Checksum of start, end, prot, flags and gen, rewritten inside the write section.
    public let checksum = Atomic<UInt64>(0)
    /// In the index. Cleared, inside the write section, when the VMA is unlinked.
    public let attached = Atomic<Bool>(false)
    /// The per-VMA sequence count of the speculative-fault strategies.
    public let seq = SeqCount()
    /// Nesting depth of the VMA's write section; only writers (holding the
    /// mm write lock) touch it, so the seqcount turns odd once per section.
    public let writeDepth = Atomic<UInt32>(0)

    /// `vm_lock_seq` (Linux 6.4): the VMA is write-locked while it equals the mm's `mm_lock_seq`.
    public let lockSeq = Atomic<UInt64>(VMA.unlockedSeq)

    /// PIPE: grace periods completed since the VMA was retired (0 while in use).
    public let pipe = Atomic<UInt32>(0)
    /// The rest of the second cache line: what readers write starts the third.
    private let lineTwoEnd: UInt64 = 0

    // The third cache line: the counts every reader writes, away from the
    // fields every reader reads. In Linux, vm_refcnt is cacheline-aligned
    // (6.15) and the per-VMA rwsem lived in a `vma_lock` of its own (6.4).
    // StoreOperationTests' whatReadersWriteHasACacheLineOfItsOwn checks where they land.

    /// The tree holds one reference; speculative readers take more. In
    /// `per-vma-refcount` it is `vm_refcnt`: 0 detached or free, 1 attached,
    /// one more per reader, plus `PerVMARefcount.writerBit` while a writer waits.
    public let refs = RefCount(0)
    /// The per-VMA lock of Linux 6.4, which readers trylock (`lockSeq` says whether it is write-locked).
    public let lock = QRWLock()

    public init() {}

    public static let poison: UInt64 = 0x6B6B_6B6B_6B6B_6B6B
    /// The tag of a record freed to a type-safe cache: free, but a lockless
    /// reader may still find and read it (SLAB_TYPESAFE_BY_RCU).
    public static let typeSafeFree: UInt64 = 0x7473_6672_6565_0000
    /// `flags` bits: 1 keeps a VMA from merging (`mmapFixed`); `fileBacked`
    /// marks a mapping of a file (it merges only with mappings of a file).
    public static let fileBacked: UInt32 = 2
    /// `vm_lock_seq` of a VMA no writer has locked (the kernel's -1).
    public static let unlockedSeq = UInt64.max
    @inline(__always) public static func liveTag(_ id: UInt64) -> UInt64 { 0x5641_0000_0000_0000 ^ id }

    @inline(__always)
    public static func checksum(start: UInt64, end: UInt64, prot: UInt8, flags: UInt32, gen: UInt64) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15
        h = mix(h, start)
        h = mix(h, end)
        h = mix(h, UInt64(prot) | UInt64(flags) << 8)
        return mix(h, gen)
    }

    @inline(__always)
    static func mix(_ h: UInt64, _ v: UInt64) -> UInt64 {
        let x = (h ^ v) &* 0xBF58_476D_1CE4_E5B9
        return x ^ (x >> 31)
    }
}

public typealias VMAPtr = UnsafeMutablePointer<VMA>

/// Field accessors. Relaxed: see `VMA`.
extension UnsafeMutablePointer where Pointee == VMA {
    @inline(__always) public var start: UInt64 { pointee.start.load(ordering: .relaxed) }
    @inline(__always) public var end: UInt64 { pointee.end.load(ordering: .relaxed) }
    @inline(__always) public var range: PageRange { PageRange(start, end) }
    @inline(__always) public var prot: Prot { Prot(rawValue: pointee.prot.load(ordering: .relaxed)) }
    @inline(__always) public var flags: UInt32 { pointee.flags.load(ordering: .relaxed) }
    /// Not `vma_is_anonymous`: a mapping of a file.
    @inline(__always) public var isFileBacked: Bool { flags & VMA.fileBacked != 0 }
    @inline(__always) public var gen: UInt64 { pointee.gen.load(ordering: .relaxed) }
    @inline(__always) public var id: UInt64 { pointee.id.load(ordering: .relaxed) }
    @inline(__always) public var owner: UInt64 { pointee.owner.load(ordering: .relaxed) }
    @inline(__always) public var isAttached: Bool { pointee.attached.load(ordering: .relaxed) }
    @inline(__always) public var isLive: Bool { pointee.tag.load(ordering: .relaxed) == VMA.liveTag(id) }
    /// Still the allocation whose id was `id` (the UAF re-check after use).
    @inline(__always) public func isLive(as id: UInt64) -> Bool {
        pointee.tag.load(ordering: .acquiring) == VMA.liveTag(id)
    }
    @inline(__always) public var tag: UInt64 { pointee.tag.load(ordering: .relaxed) }

    /// The checksum the current fields should have.
    public var expectedChecksum: UInt64 {
        VMA.checksum(start: start, end: end, prot: prot.rawValue, flags: flags, gen: gen)
    }
    public var checksumMatches: Bool { pointee.checksum.load(ordering: .relaxed) == expectedChecksum }

    /// Sets fields; the caller is inside the VMA's write section (or owns it exclusively).
    @inline(__always) public func setStart(_ v: UInt64) { pointee.start.store(v, ordering: .relaxed) }
    @inline(__always) public func setEnd(_ v: UInt64) { pointee.end.store(v, ordering: .relaxed) }
    @inline(__always) public func setProt(_ p: Prot) { pointee.prot.store(p.rawValue, ordering: .relaxed) }
    @inline(__always) public func setGen(_ g: UInt64) { pointee.gen.store(g, ordering: .relaxed) }
    @inline(__always) public func setAttached(_ a: Bool) { pointee.attached.store(a, ordering: .relaxed) }
    public func resealChecksum() { pointee.checksum.store(expectedChecksum, ordering: .relaxed) }

    /// A one-line description for reports.
    public var summary: String {
        "VMA \(range) \(prot) gen \(gen) id \(id)\(isAttached ? "" : " detached")"
    }
}
