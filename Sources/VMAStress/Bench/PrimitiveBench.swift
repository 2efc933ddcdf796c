import CBenchLoops
import CSupport
import Glibc
import Synchronization

/// `vmastress bench primitives`: ns/op of every primitive's read and write
/// side at several thread counts, the Swift loop and its C twin measured in
/// the same run, alternately, with the Swift/C throughput ratio.
public enum PrimitiveBench {
    public struct Options: Sendable {
        public var threadCounts: [Int] = [1, 2, 8]
        public var cellSeconds: Double = 0.1
        /// Each language runs this many slices per cell, alternating; medians count.
        public var repetitions: Int = 11
        /// Only these primitives (all when empty).
        public var only: Set<String> = []
        public init() {}
    }

    public struct Cell: Codable, Sendable {
        public var primitive: String
        public var side: String
        public var threads: Int
        /// Nanoseconds per operation per thread (wall time x threads / operations).
        public var swiftNsPerOp: Double
        public var swiftOpsPerSecond: Double
        public var cNsPerOp: Double?
        public var cOpsPerSecond: Double?
        /// Swift throughput / C throughput: the median over slice pairs.
        public var swiftToC: Double?
    }

    /// What `bench primitives --json` writes (docs/results-schema.md).
    public struct Report: Codable, Sendable {
        public static let schemaID = "vmastress.primitives/1"
        public var schema = Report.schemaID
        /// The stop signal that ended the run early; `cells` then holds the cells that finished.
        public var interruptedBy: String?
        public var machine: Machine
        public var cellSeconds: Double
        public var repetitions: Int
        public var cells: [Cell]
    }

    typealias Loop = @Sendable (StopFlag) -> UInt64

    struct Case {
        let primitive: String
        let side: String
        let swift: Loop
        let c: Loop?
    }

    public static var primitives: [String] {
        RCUFlavorKind.allCases.map { "rcu-\($0.rawValue)" }
            + ["srcu", "pthread-rwlock", "pthread-rwlock-writers", "rwsem", "qrwlock", "spinlock", "refcount", "seqcount", "noise"]
    }

    public static func run(_ options: Options, progress: (String) -> Void = { _ in }) -> Report {
        let state = BenchState()
        defer { state.destroy() }
        let cases = state.cases().filter { options.only.isEmpty || options.only.contains($0.primitive) }
        var cells: [Cell] = []
        // A stop signal ends the run after the slice it cuts short; the cell of that slice is dropped.
        cells: for c in cases {
            for threads in options.threadCounts {
                progress("\(c.primitive) \(c.side) x\(threads)")
                // Swift and C alternate, slice by slice, the first language swapping each time;
                // each slice pair gives a ratio, and the median ratio is reported, so drifts of
                // the shared machine hit both sides of a pair alike.
                var swiftRuns: [Double] = [], cRuns: [Double] = [], ratios: [Double] = []
                for rep in 0..<options.repetitions where vms_stop_signal() == 0 {
                    guard let cLoop = c.c else {
                        swiftRuns.append(measure(threads: threads, seconds: options.cellSeconds, c.swift))
                        continue
                    }
                    let swiftFirst = rep % 2 == 0
                    let first = measure(threads: threads, seconds: options.cellSeconds, swiftFirst ? c.swift : cLoop)
                    let second = measure(threads: threads, seconds: options.cellSeconds, swiftFirst ? cLoop : c.swift)
                    let (s, cOps) = swiftFirst ? (first, second) : (second, first)
                    swiftRuns.append(s)
                    cRuns.append(cOps)
                    ratios.append(cOps > 0 ? s / cOps : 0)
                }
                if vms_stop_signal() != 0 { break cells }
                let s = median(swiftRuns)
                let cOps = cRuns.isEmpty ? nil : median(cRuns)
                cells.append(Cell(
                    primitive: c.primitive, side: c.side, threads: threads,
                    swiftNsPerOp: nsPerOp(s, threads), swiftOpsPerSecond: s,
                    cNsPerOp: cOps.map { nsPerOp($0, threads) }, cOpsPerSecond: cOps,
                    swiftToC: ratios.isEmpty ? nil : median(ratios)))
            }
        }
        return Report(interruptedBy: Runner.stopSignalName(), machine: .current(), cellSeconds: options.cellSeconds, repetitions: options.repetitions, cells: cells)
    }

    static func nsPerOp(_ opsPerSecond: Double, _ threads: Int) -> Double {
        opsPerSecond > 0 ? 1e9 * Double(threads) / opsPerSecond : 0
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.isEmpty ? 0 : s[s.count / 2]
    }

    /// Runs `loop` on `threads` pthreads, released together, for `seconds`; returns operations per second.
    static func measure(threads: Int, seconds: Double, _ loop: @escaping Loop) -> Double {
        let stop = StopFlag.allocate(capacity: 1)
        stop.initialize(to: Atomic(0))
        let ready = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: 1)
        ready.initialize(to: Atomic(0))
        let totals = UnsafeMutablePointer<UInt64>.allocate(capacity: threads)
        totals.initialize(repeating: 0, count: threads)
        defer {
            stop.deallocate()
            ready.deallocate()
            totals.deallocate()
        }
        let shared = BenchShared(stop: stop, ready: ready, totals: totals)
        let cpus = max(allowedCPUsOfThisThread().count, 1)
        // Threads wait for the go (stop flag flipped from 2 to 0) so they start together.
        stop.pointee.store(2, ordering: .relaxed)
        let workers = (0..<threads).compactMap { i in
            try? OSThread.spawn(name: "bench-\(i)") {
                // Thread i on CPU i mod n: no migrations inside a slice.
                var cpu = Int32(i % cpus)
                _ = vms_set_affinity(&cpu, 1)
                shared.ready.pointee.wrappingAdd(1, ordering: .relaxed)
                while shared.stop.pointee.load(ordering: .acquiring) == 2 { spinHint() }
                shared.totals[i] = loop(shared.stop)
            }
        }
        while ready.pointee.load(ordering: .relaxed) < workers.count { usleep(100) }
        let t0 = Clock.nanos()
        stop.pointee.store(0, ordering: .releasing)
        _ = Clock.sleep(until: t0 + UInt64(seconds * 1e9)) { vms_stop_signal() != 0 }
        stop.pointee.store(1, ordering: .relaxed)
        workers.forEach { $0.join() }
        let elapsed = Double(Clock.nanos() - t0) / 1e9
        let ops = (0..<threads).reduce(UInt64(0)) { $0 + totals[$1] }
        return Double(ops) / elapsed
    }
}

struct BenchShared: @unchecked Sendable {
    let stop: StopFlag
    let ready: UnsafeMutablePointer<Atomic<Int>>
    let totals: UnsafeMutablePointer<UInt64>
}

/// Every primitive the benchmark touches, allocated once.
final class BenchState: @unchecked Sendable {
    let slot = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 1)
    let object = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
    let srcu = SRCU()
    let pthreadLock = PthreadRWLock(.pthreadDefault)
    let pthreadWriters = PthreadRWLock(.preferWriters)
    let rwsem = RWSem()
    let qrwlock = UnsafeMutablePointer<QRWLock>.allocate(capacity: 1)
    let spin = UnsafeMutablePointer<SpinLock>.allocate(capacity: 1)
    let refs = UnsafeMutablePointer<RefCount>.allocate(capacity: 1)
    let pair = UnsafeMutablePointer<SeqPair>.allocate(capacity: 1)
    /// The C loops' own words: spinlock, refcount, seqlock lock, seq; then two data words.
    let cWords = UnsafeMutablePointer<UInt32>.allocate(capacity: 4)
    let cData = UnsafeMutablePointer<UInt64>.allocate(capacity: 2)

    init() {
        slot.initialize(to: object)
        qrwlock.initialize(to: QRWLock())
        spin.initialize(to: SpinLock())
        refs.initialize(to: RefCount(1))
        pair.initialize(to: SeqPair())
        cWords.initialize(repeating: 0, count: 4)
        cWords[1] = 1
        cData.initialize(repeating: 0, count: 2)
    }

    func destroy() {
        srcu.shutdown()
        pthreadLock.destroy()
        pthreadWriters.destroy()
        rwsem.destroy()
        slot.deallocate()
        object.deallocate()
        qrwlock.deallocate()
        spin.deallocate()
        refs.deallocate()
        pair.deallocate()
        cWords.deallocate()
        cData.deallocate()
    }

    func cases() -> [PrimitiveBench.Case] {
        let s = self
        var all: [PrimitiveBench.Case] = []
        for kind in RCUFlavorKind.allCases {
            all += (try? kind.visit(RCUCases(state: s))) ?? []
        }
        all += [
            .init(primitive: "srcu", side: "read", swift: { swiftSRCURead(s.srcu, $0) }, c: nil),
            .init(primitive: "srcu", side: "write", swift: { swiftSRCUSync(s.srcu, $0) }, c: nil),
            .init(primitive: "pthread-rwlock", side: "read", swift: { swiftRWLockRead(s.pthreadLock, $0) },
                  c: { vms_c_rwlock_read(cStop($0), s.pthreadLock.lockPtr) }),
            .init(primitive: "pthread-rwlock", side: "write", swift: { swiftRWLockWrite(s.pthreadLock, $0) },
                  c: { vms_c_rwlock_write(cStop($0), s.pthreadLock.lockPtr) }),
            .init(primitive: "pthread-rwlock-writers", side: "read", swift: { swiftRWLockRead(s.pthreadWriters, $0) },
                  c: { vms_c_rwlock_read(cStop($0), s.pthreadWriters.lockPtr) }),
            .init(primitive: "pthread-rwlock-writers", side: "write",
                  swift: { swiftRWLockWrite(s.pthreadWriters, $0) },
                  c: { vms_c_rwlock_write(cStop($0), s.pthreadWriters.lockPtr) }),
            .init(primitive: "rwsem", side: "read", swift: { swiftRWLockRead(s.rwsem, $0) },
                  c: { vms_c_rwsem_read(cStop($0), s.rwsem.sem) }),
            .init(primitive: "rwsem", side: "write", swift: { swiftRWLockWrite(s.rwsem, $0) },
                  c: { vms_c_rwsem_write(cStop($0), s.rwsem.sem) }),
            .init(primitive: "qrwlock", side: "read", swift: { swiftQRWLockRead(s.qrwlock, $0) }, c: nil),
            .init(primitive: "qrwlock", side: "write", swift: { swiftQRWLockWrite(s.qrwlock, $0) }, c: nil),
            .init(primitive: "spinlock", side: "lock", swift: { swiftSpinLock(s.spin, $0) },
                  c: { vms_c_spinlock(cStop($0), s.cWords) }),
            .init(primitive: "refcount", side: "get+put", swift: { swiftRefCount(s.refs, $0) },
                  c: { vms_c_refcount(cStop($0), s.cWords + 1) }),
            .init(primitive: "seqcount", side: "read", swift: { swiftSeqCountRead(s.pair, $0) },
                  c: { vms_c_seqcount_read(cStop($0), s.cWords + 3, s.cData) }),
            .init(primitive: "seqcount", side: "write", swift: { swiftSeqLockWrite(s.pair, $0) },
                  c: { vms_c_seqlock_write(cStop($0), s.cWords + 2, s.cWords + 3, s.cData) }),
            // The control: the C rcu-memb read loop against itself. Its swift/c column is the
            // machine's noise band for this run; read every other ratio against it.
            .init(primitive: "noise", side: "c-vs-c", swift: { vms_c_rcu_memb_read(cStop($0), s.slot) },
                  c: { vms_c_rcu_memb_read(cStop($0), s.slot) }),
        ]
        return all
    }
}

/// The read and write cases of one RCU flavor, specialised for it.
struct RCUCases: RCUFlavorVisitor {
    let state: BenchState

    func visit<F: RCUFlavor>(_ flavor: F.Type) -> [PrimitiveBench.Case] {
        let s = state
        let (cRead, cSync): (@Sendable (UnsafePointer<Int32>, UnsafePointer<UnsafeMutableRawPointer?>) -> UInt64,
                             @Sendable (UnsafePointer<Int32>) -> UInt64) = switch F.kind {
        case .memb: ({ vms_c_rcu_memb_read($0, $1) }, { vms_c_rcu_memb_sync($0) })
        case .qsbr: ({ vms_c_rcu_qsbr_read($0, $1) }, { vms_c_rcu_qsbr_sync($0) })
        case .mb: ({ vms_c_rcu_mb_read($0, $1) }, { vms_c_rcu_mb_sync($0) })
        case .signal: ({ vms_c_rcu_signal_read($0, $1) }, { vms_c_rcu_signal_sync($0) })
        case .bp: ({ vms_c_rcu_bp_read($0, $1) }, { vms_c_rcu_bp_sync($0) })
        }
        let name = "rcu-\(F.kind.rawValue)"
        return [
            .init(primitive: name, side: "read", swift: { swiftRCURead(F.self, $0, s.slot) }, c: { cRead(cStop($0), s.slot) }),
            .init(primitive: name, side: "write", swift: { swiftRCUSync(F.self, $0) }, c: { cSync(cStop($0)) }),
        ]
    }
}

/// The stop flag as the C loops read it (a plain int, loaded relaxed).
@inline(__always)
func cStop(_ stop: StopFlag) -> UnsafePointer<Int32> { UnsafeRawPointer(stop).assumingMemoryBound(to: Int32.self) }
