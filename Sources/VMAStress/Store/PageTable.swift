import Synchronization

/// The page-table model: a directory of page-table pages, each holding 512
/// PTEs and its own PTL (split PTE locks, as in Linux).
///
/// Page-table pages are allocated on first fault and kept until `destroy()`
/// (Linux frees them only when a whole range goes away), so a lockless walker
/// never meets a freed table: it meets either a published one or none. PTEs
/// change only under their table's PTL; they are atomics so lockless walks
/// and checker scans may read them.
public struct PageTable: @unchecked Sendable {
    public static let ptesPerTable = 512
    static let pteOffset = 64

    /// One page-table page: PTL in its own cache line, then the PTEs.
    public struct Table {
        let base: UnsafeMutableRawPointer

        @inline(__always) var lockPtr: UnsafeMutablePointer<SpinLock> {
            base.assumingMemoryBound(to: SpinLock.self)
        }
        @inline(__always) var ptes: UnsafeMutablePointer<Atomic<UInt64>> {
            (base + PageTable.pteOffset).assumingMemoryBound(to: Atomic<UInt64>.self)
        }

        @inline(__always) public func lock() { lockPtr.pointee.lock() }
        @inline(__always) public func tryLock() -> Bool { lockPtr.pointee.tryLock() }
        @inline(__always) public func unlock() { lockPtr.pointee.unlock() }
        /// Relaxed: under the PTL the lock orders it; lockless walkers re-validate.
        @inline(__always) public func pte(_ i: Int) -> PTE { PTE(raw: ptes[i].load(ordering: .relaxed)) }
        /// Caller holds the PTL.
        @inline(__always) public func setPTE(_ i: Int, _ pte: PTE) { ptes[i].store(pte.raw, ordering: .relaxed) }
    }

    public let pages: UInt64
    let memory: MemoryPolicy
    static let tableBytes = pteOffset + ptesPerTable * 8
    let tableCount: Int
    /// Table addresses, 0 where none is allocated yet.
    let directory: UnsafeMutablePointer<Atomic<UInt>>
    let allocated: UnsafeMutablePointer<Atomic<Int>>

    public init(pages: UInt64, memory: MemoryPolicy = .system) {
        self.pages = pages
        self.memory = memory
        tableCount = Int((pages + UInt64(Self.ptesPerTable) - 1) / UInt64(Self.ptesPerTable))
        directory = .allocate(capacity: tableCount)
        for i in 0..<tableCount { (directory + i).initialize(to: Atomic(0)) }
        allocated = .allocate(capacity: 1)
        allocated.initialize(to: Atomic(0))
    }

    @inline(__always)
    static func split(_ page: UInt64) -> (table: Int, slot: Int) {
        (Int(page / UInt64(ptesPerTable)), Int(page % UInt64(ptesPerTable)))
    }

    /// The table holding `page`'s PTE if one is allocated (the lockless walk).
    @inline(__always)
    public func existingTable(for page: UInt64) -> Table? {
        // acquiring: pairs with the releasing publish in `table(for:)`, so the
        // initialised lock and PTEs are visible.
        let addr = directory[Int(page / UInt64(Self.ptesPerTable))].load(ordering: .acquiring)
        return addr == 0 ? nil : Table(base: UnsafeMutableRawPointer(bitPattern: addr)!)
    }

    /// The table holding `page`'s PTE, allocating it on first use (pte_alloc).
    public func table(for page: UInt64) -> Table {
        if let t = existingTable(for: page) { return t }
        let raw = NodeMemory.allocate(bytes: Self.tableBytes, policy: memory)
        raw.bindMemory(to: SpinLock.self, capacity: 1).initialize(to: SpinLock())
        let ptes = (raw + Self.pteOffset).bindMemory(to: Atomic<UInt64>.self, capacity: Self.ptesPerTable)
        for i in 0..<Self.ptesPerTable { (ptes + i).initialize(to: Atomic(0)) }
        let slot = Int(page / UInt64(Self.ptesPerTable))
        // releasing publish; on a lost race use the winner's table.
        let (won, current) = directory[slot].compareExchange(
            expected: 0, desired: UInt(bitPattern: raw), ordering: .acquiringAndReleasing)
        if won {
            allocated.pointee.wrappingAdd(1, ordering: .relaxed)
            return Table(base: raw)
        }
        NodeMemory.free(raw, bytes: Self.tableBytes, policy: memory)
        return Table(base: UnsafeMutableRawPointer(bitPattern: current)!)
    }

    /// Reads a PTE without the PTL (checker scans, lockless walks).
    public func pte(at page: UInt64) -> PTE {
        guard let t = existingTable(for: page) else { return .none }
        return t.pte(Self.split(page).slot)
    }

    /// Rewrites every present PTE in `range` that `transform` changes, each
    /// table under its PTL. Returns how many PTEs changed.
    @discardableResult
    public func update(_ range: PageRange, _ transform: (PTE) -> PTE) -> Int {
        var changed = 0
        var page = range.start
        while page < range.end {
            let (tableIndex, first) = Self.split(page)
            let tableEnd = min(range.end, UInt64(tableIndex + 1) * UInt64(Self.ptesPerTable))
            if let t = existingTable(for: page) {
                t.lock()
                for slot in first..<(first + Int(tableEnd - page)) {
                    let old = t.pte(slot)
                    guard old.isPresent else { continue }
                    let new = transform(old)
                    if new != old {
                        t.setPTE(slot, new)
                        changed += 1
                    }
                }
                t.unlock()
            }
            page = tableEnd
        }
        return changed
    }

    /// zap_pte_range: clears every PTE in `range`.
    @discardableResult
    public func zap(_ range: PageRange) -> Int { update(range) { _ in .none } }

    /// Moves the PTEs of `from` to the same offsets in `to`, stamping `gen`
    /// (move_page_tables). Takes both PTLs, source first, one page at a time.
    /// Returns the destination pages that already had a PTE, which the move
    /// overwrites: the destination was a free range whose new VMA no fault
    /// may use before the move is done (SPF v12 "protect mremap() against
    /// SPF handler"; per-VMA locks: lock before storing in the tree); and
    /// the source pages whose PTE was not of generation `expecting` (a stale
    /// PTE the re-stamp would otherwise hide).
    ///
    /// Each source PTE is read under its PTL, never before it: a speculative
    /// fault that validated the old VMA before the caller's write section
    /// began may be inside its PTL section, about to fill that very PTE.
    /// Only the lock orders the two (kernel: move_ptes reads every old PTE
    /// under the old PTL); an unlocked "empty, skip" look left the fault's
    /// PTE behind in the old range.
    @discardableResult
    public func move(from: PageRange, to: UInt64, gen: UInt64, expecting: UInt64) -> [UInt64] {
        var clobbered: [UInt64] = []
        for offset in 0..<from.count {
            let src = from.start + offset
            // No table: no fault can be filling one (speculative faults never allocate tables).
            guard let st = existingTable(for: src) else { continue }
            let srcSlot = Self.split(src).slot
            st.lock()
            let old = st.pte(srcSlot)
            guard old.isPresent else {
                st.unlock()
                continue
            }
            let dt = table(for: to + offset)
            let dstSlot = Self.split(to + offset).slot
            let same = st.base == dt.base
            if !same { dt.lock() }
            if dt.pte(dstSlot).isPresent { clobbered.append(to + offset) }
            if old.gen != expecting { clobbered.append(src) }
            st.setPTE(srcSlot, .none)
            dt.setPTE(dstSlot, old.restamped(gen: gen))
            if !same { dt.unlock() }
            st.unlock()
        }
        return clobbered
    }

    /// Every present PTE, in page order (checker scans).
    public func forEachPresent(in range: PageRange? = nil, _ body: (UInt64, PTE) -> Void) {
        let r = range ?? PageRange(0, pages)
        var page = r.start
        while page < r.end {
            let (tableIndex, first) = Self.split(page)
            let tableEnd = min(r.end, UInt64(tableIndex + 1) * UInt64(Self.ptesPerTable))
            if let t = existingTable(for: page) {
                for slot in first..<(first + Int(tableEnd - page)) {
                    let p = t.pte(slot)
                    if p.isPresent { body(UInt64(tableIndex * Self.ptesPerTable + slot), p) }
                }
            }
            page = tableEnd
        }
    }

    /// Every allocated table, in address order.
    public func forEachTable(_ body: (Table) -> Void) {
        for i in 0..<tableCount {
            let addr = directory[i].load(ordering: .acquiring)
            if addr != 0 { body(Table(base: UnsafeMutableRawPointer(bitPattern: addr)!)) }
        }
    }

    /// Every PTE of the space (absent tables as zeros), for a before/after comparison.
    public func snapshot() -> [UInt64] {
        var out = [UInt64](repeating: 0, count: Int(pages))
        forEachPresent { page, pte in out[Int(page)] = pte.raw }
        return out
    }

    /// The first page whose PTE differs from `snapshot`.
    public func firstDifference(from snapshot: [UInt64]) -> UInt64? {
        (0..<snapshot.count).first { pte(at: UInt64($0)).raw != snapshot[$0] }.map(UInt64.init)
    }

    public var tablesAllocated: Int { allocated.pointee.load(ordering: .relaxed) }
    public var bytesAllocated: Int { tablesAllocated * Self.tableBytes }

    /// Every allocated table's memory, for residency queries.
    public var regions: [(UnsafeRawPointer, Int)] {
        (0..<tableCount).compactMap { i in
            let addr = directory[i].load(ordering: .relaxed)
            return addr == 0 ? nil : (UnsafeRawPointer(bitPattern: addr)!, Self.tableBytes)
        }
    }

    public func destroy() {
        for i in 0..<tableCount {
            let addr = directory[i].load(ordering: .relaxed)
            if addr != 0 { NodeMemory.free(UnsafeMutableRawPointer(bitPattern: addr)!, bytes: Self.tableBytes, policy: memory) }
        }
        directory.deallocate()
        allocated.deallocate()
    }
}
