import CSupport
/// Every primitive's validation and its busted twins, in one table
/// (ConcurrencyKit's `validate` beside `bench primitives`).
public enum PrimitiveValidation {
    public struct Entry: Sendable {
        public let name: String
        public let test: String
        public let busted: Bool
        /// One line: what is checked, or for a twin, what is broken.
        public let summary: String
        let run: @Sendable (_ seconds: Double, _ stopOnFailure: Bool) -> ValidationResult
    }

    public static let all: [Entry] = {
        var entries: [Entry] = []
        for kind in RCUFlavorKind.allCases {
            entries += (try? kind.visit(PipeEntries())) ?? []
        }
        entries += [
            Entry(name: "srcu", test: "pipe", busted: false, summary: "SRCU grace periods wait for readers") { s, stop in
                let srcu = SRCU()
                defer { srcu.shutdown() }
                return PipeStress.run(SRCUPipe(srcu: srcu, busted: false), name: "srcu", busted: false,
                                      seconds: s, stopOnFailure: stop)
            },
            Entry(name: "busted-srcu-no-drain", test: "pipe", busted: true,
                  summary: "synchronize_srcu flips the index but skips the drain") { s, stop in
                let srcu = SRCU()
                defer { srcu.shutdown() }
                return PipeStress.run(SRCUPipe(srcu: srcu, busted: true), name: "busted-srcu-no-drain", busted: true,
                                      seconds: s, stopOnFailure: stop)
            },
            Entry(name: "seqcount", test: "torn-read", busted: false, summary: "readers retry across writers") { s, stop in
                SeqCountStress.run(name: "seqcount", skipRetry: false, seconds: s, stopOnFailure: stop)
            },
            Entry(name: "busted-seqcount-no-retry", test: "torn-read", busted: true,
                  summary: "the reader skips read_seqcount_retry") { s, stop in
                SeqCountStress.run(name: "busted-seqcount-no-retry", skipRetry: true, seconds: s, stopOnFailure: stop)
            },
            exclusion("qrwlock", "queued rwlock excludes writers from everyone") { QRWLockUnderTest() },
            exclusion("rwsem", "the kernel's rwsem (kernel_rwsem.c)") { RWLockUnderTest(RWSem()) },
            exclusion("pthread-rwlock-writers", "writer-preferring pthread rwlock") {
                RWLockUnderTest(PthreadRWLock(.preferWriters))
            },
            exclusion("pthread-rwlock", "glibc's default pthread rwlock") { RWLockUnderTest(PthreadRWLock(.pthreadDefault)) },
            exclusion("spinlock", "test-and-test-and-set spinlock (the PTL)") { SpinLockUnderTest() },
            exclusion("busted-two-writers", "test, linger, then set: two writers get in", busted: true) { TwoWritersLock() },
        ]
        return entries
    }()

    static func exclusion(_ name: String, _ summary: String, busted: Bool = false,
                          _ make: @escaping @Sendable () -> LockUnderTest) -> Entry {
        Entry(name: name, test: "exclusion", busted: busted, summary: summary) { s, stop in
            ExclusionStress.run(make(), name: name, busted: busted, seconds: s, stopOnFailure: stop)
        }
    }

    public static func named(_ name: String) -> Entry? { all.first { $0.name == name } }

    /// Runs correct entries for `seconds` each, busted ones until caught or `bustedSeconds`. A stop
    /// signal ends the run early: the entry it cut short is kept only if it had already failed (a
    /// finding is a finding; a pass or a twin not yet caught after a cut would say nothing).
    public static func run(_ entries: [Entry], seconds: Double, bustedSeconds: Double,
                           progress: (Entry) -> Void = { _ in }) -> [ValidationResult] {
        var results: [ValidationResult] = []
        for e in entries where vms_stop_signal() == 0 {
            progress(e)
            let r = e.busted ? e.run(bustedSeconds, true) : e.run(seconds, false)
            if vms_stop_signal() == 0 || r.failures > 0 { results.append(r) }
        }
        return results
    }
}

/// The pipe entries of one RCU flavor: the real one and its busted twin.
struct PipeEntries: RCUFlavorVisitor {
    func visit<F: RCUFlavor>(_: F.Type) -> [PrimitiveValidation.Entry] {
        let name = "rcu-\(F.kind.rawValue)"
        return [
            .init(name: name, test: "pipe", busted: false, summary: "grace periods wait for readers") { s, stop in
                PipeStress.run(RCUPipe<F>(busted: false), name: name, busted: false, seconds: s, stopOnFailure: stop)
            },
            .init(name: "busted-\(name)-no-wait", test: "pipe", busted: true,
                  summary: "synchronize_rcu returns without waiting") { s, stop in
                PipeStress.run(RCUPipe<F>(busted: true), name: "busted-\(name)-no-wait", busted: true,
                               seconds: s, stopOnFailure: stop)
            },
        ]
    }
}
