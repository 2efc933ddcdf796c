import Testing
@testable import VMAStress

@Suite("VMA operations: splits, merges, zaps")
struct StoreOperationTests {
    @Test func mmapFindsGapsAndMergesWithNeighbours() {
        var f = Fixture()
        defer { f.destroy() }
        let area = PageRange(100, 200)
        #expect(f.s.mmap(count: 10, prot: .readWrite, within: area, hint: 100).status == .done)
        #expect(f.s.mmap(count: 10, prot: .readWrite, within: area, hint: 100).status == .done)
        // The second mapping lands right after the first and merges into one VMA.
        #expect(f.vmas.map { [$0.0, $0.1] } == [[100, 120]])
        #expect(f.s.mmap(count: 5, prot: .read, within: area, hint: 100).status == .done)
        #expect(f.vmas.map { [$0.0, $0.1] } == [[100, 120], [120, 125]])
        #expect(f.s.mmap(count: 200, prot: .read, within: area, hint: 100).status == .noSpace)
        _ = f.fault(150)
        #expect(Audit.tree(f.mm).isEmpty)
    }

    @Test func mmapBridgingTwoNeighboursRestampsTheRightOnesPTEs() {
        var f = Fixture()
        defer { f.destroy() }
        #expect(f.s.mmapFixed(PageRange(10, 20), prot: .readWrite).status == .done)
        #expect(f.s.mmapFixed(PageRange(30, 40), prot: .readWrite).status == .done)
        #expect(f.fault(35, write: true) == .installed)
        let leftGen = f.mm.list.find(10)!.gen
        #expect(f.s.mmap(count: 10, prot: .readWrite, within: PageRange(20, 30), hint: 20).status == .done)
        #expect(f.vmas.map { [$0.0, $0.1] } == [[10, 40]])
        #expect(f.pte(35).gen == leftGen)
        #expect(f.pte(35).isWritable)
        #expect(Audit.ptes(f.mm).isEmpty)
        #expect(Audit.leak(f.mm).isEmpty)
    }

    @Test func munmapInTheMiddleSplitsAndZaps() {
        var f = Fixture()
        defer { f.destroy() }
        #expect(f.s.mmapFixed(PageRange(100, 140), prot: .readWrite).status == .done)
        for p in UInt64(100)..<140 { #expect(f.fault(p, write: true) == .installed) }
        let gen = f.mm.list.find(100)!.gen
        #expect(f.s.munmap(PageRange(110, 120)).status == .done)
        #expect(f.vmas.map { [$0.0, $0.1] } == [[100, 110], [120, 140]])
        // Both pieces keep the generation, so their PTEs stay valid.
        #expect(f.mm.list.find(125)!.gen == gen)
        for p in UInt64(110)..<120 { #expect(!f.pte(p).isPresent) }
        #expect(f.pte(109).isPresent && f.pte(120).isPresent)
        #expect(f.fault(115) == .noVMA)
        #expect(Audit.ptes(f.mm).isEmpty && Audit.tree(f.mm).isEmpty && Audit.leak(f.mm).isEmpty)
        #expect(Audit.refs(f.mm, underflowsBefore: 0).isEmpty)
    }

    @Test func munmapAcrossSeveralVMAsRemovesAndTrims() {
        let f = Fixture()
        defer { f.destroy() }
        _ = f.s.mmapFixed(PageRange(10, 20), prot: .read)
        _ = f.s.mmapFixed(PageRange(20, 30), prot: .readWrite)
        _ = f.s.mmapFixed(PageRange(30, 40), prot: .read)
        #expect(f.s.munmap(PageRange(15, 35)).status == .done)
        #expect(f.vmas.map { [$0.0, $0.1] } == [[10, 15], [35, 40]])
        #expect(f.s.munmap(PageRange(50, 60)).status == .noTarget)
        #expect(Audit.leak(f.mm).isEmpty)
        #expect(f.mm.vmas.allocations - f.mm.vmas.frees == 2)
    }

    @Test func mprotectSplitsDowngradesAndMergesBack() {
        var f = Fixture()
        defer { f.destroy() }
        _ = f.s.mmapFixed(PageRange(100, 130), prot: .readWrite)
        for p in UInt64(100)..<130 { _ = f.fault(p, write: true) }
        #expect(f.s.mprotect(PageRange(110, 120), prot: .read).status == .done)
        #expect(f.vmas.map { [$0.0, $0.1] } == [[100, 110], [110, 120], [120, 130]])
        #expect(f.vmas[1].2 == .read)
        for p in UInt64(110)..<120 { #expect(f.pte(p).isPresent && !f.pte(p).isWritable) }
        #expect(f.pte(105).isWritable)
        #expect(f.fault(115, write: true) == .accessDenied)
        #expect(f.fault(115) == .present)
        // PROT_NONE zaps.
        #expect(f.s.mprotect(PageRange(112, 114), prot: .none).status == .done)
        #expect(!f.pte(112).isPresent && !f.pte(113).isPresent && f.pte(114).isPresent)
        // Back to read-write everywhere: one VMA again.
        #expect(f.s.mprotect(PageRange(100, 130), prot: .readWrite).status == .done)
        #expect(f.vmas.map { [$0.0, $0.1] } == [[100, 130]])
        #expect(f.fault(115, write: true) == .upgraded)
        #expect(Audit.ptes(f.mm).isEmpty && Audit.tree(f.mm).isEmpty && Audit.leak(f.mm).isEmpty)
    }

    @Test func mremapMovesPTEsUnderANewGeneration() {
        var f = Fixture()
        defer { f.destroy() }
        let area = PageRange(100, 400)
        _ = f.s.mmapFixed(PageRange(100, 110), prot: .readWrite)
        for p in UInt64(100)..<105 { _ = f.fault(p, write: true) }
        let oldGen = f.mm.list.find(100)!.gen
        #expect(f.s.mremap(vmaAt: 103, within: area, hint: 300).status == .done)
        #expect(f.vmas.map { [$0.0, $0.1] } == [[300, 310]])
        let newGen = f.mm.list.find(300)!.gen
        #expect(newGen != oldGen)
        for p in UInt64(100)..<110 { #expect(!f.pte(p).isPresent) }
        for p in UInt64(300)..<305 { #expect(f.pte(p).isPresent && f.pte(p).gen == newGen && f.pte(p).isWritable) }
        #expect(Audit.ptes(f.mm).isEmpty && Audit.leak(f.mm).isEmpty)
        #expect(f.s.mremap(vmaAt: 50, within: area, hint: 0).status == .noTarget)
    }

    @Test func faultsInstallUpgradeAndSeeStalePTEs() {
        var f = Fixture()
        defer { f.destroy() }
        _ = f.s.mmapFixed(PageRange(1, 10), prot: .readWrite)
        #expect(f.fault(5) == .installed)
        #expect(!f.pte(5).isWritable)
        #expect(f.fault(5) == .present)
        #expect(f.fault(5, write: true) == .upgraded)
        #expect(f.fault(500) == .noVMA)
        // A PTE left behind by another generation is reported, not overwritten.
        let t = f.mm.pageTable.table(for: 6)
        t.lock()
        t.setPTE(6, PTE(gen: 999, writable: false))
        t.unlock()
        #expect(f.fault(6) == .stalePTE(PTE(gen: 999, writable: false), vmaGen: f.mm.list.find(6)!.gen))
    }

    /// Readers read the first two cache lines of a record and write only
    /// the third (vm_refcnt is cacheline-aligned in Linux 6.15): found by
    /// writing each field and seeing which bytes of the record changed.
    @Test func whatReadersWriteHasACacheLineOfItsOwn() {
        let bytes = MemoryLayout<VMA>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        defer { raw.deallocate() }
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        let v = raw.bindMemory(to: VMA.self, capacity: 1)
        v.initialize(to: VMA())
        func changed(_ write: () -> Void) -> Set<Int> {
            let before = (0..<bytes).map { raw.load(fromByteOffset: $0, as: UInt8.self) }
            write()
            return Set((0..<bytes).filter { raw.load(fromByteOffset: $0, as: UInt8.self) != before[$0] })
        }
        let refs = changed { v.pointee.refs.set(0xA5A5_A5A5) }
        let lock = changed { v.pointee.lock.readLock() }
        let lockSeq = changed { v.pointee.lockSeq.store(0x1234_5678_9ABC_DEF0, ordering: .relaxed) }
        let start = changed { v.pointee.start.store(0x1234_5678_9ABC_DEF0, ordering: .relaxed) }
        #expect(!refs.isEmpty && !lock.isEmpty && !lockSeq.isEmpty && !start.isEmpty)
        #expect(refs.union(lock).allSatisfy { $0 / 64 == 2 }, "reader-written bytes \(refs.union(lock).sorted())")
        #expect(lockSeq.union(start).allSatisfy { $0 < 128 }, "reader-read bytes \(lockSeq.union(start).sorted())")
        // An rbtree walk reads the keys and the child links only: one cache line a level.
        let walked = changed {
            v.pointee.end.store(0x1234_5678_9ABC_DEF0, ordering: .relaxed)
            v.pointee.rbLeft.store(v, ordering: .relaxed)
            v.pointee.rbRight.store(v, ordering: .relaxed)
        }
        #expect(walked.union(start).allSatisfy { $0 < 64 }, "rbtree walk bytes \(walked.union(start).sorted())")
    }
}
