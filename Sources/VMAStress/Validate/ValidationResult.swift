/// What one primitive validation found.
public struct ValidationResult: Codable, Sendable {
    /// The primitive (or busted twin) under test.
    public var name: String
    /// `pipe`, `torn-read` or `exclusion`.
    public var test: String
    public var busted: Bool
    public var seconds: Double
    /// Read sections, reads or lock acquisitions.
    public var operations: UInt64
    /// Grace periods or write sections.
    public var updates: UInt64
    public var failures: UInt64
    /// Seconds from the start to the first failure.
    public var firstFailureSeconds: Double?
    /// rcutorture's Reader Pipe: reads by grace periods elapsed since the element's removal (10 = 10 or more).
    public var pipe: [UInt64]?

    /// A correct primitive passes with no failure; a busted twin passes when it was caught.
    public var passed: Bool { busted ? failures > 0 : failures == 0 }
}

/// When the first failure happened, shared by a stress's threads.
final class FailureClock: @unchecked Sendable {
    let start = Clock.nanos()
    private let first = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
    private let lock = UnsafeMutablePointer<SpinLock>.allocate(capacity: 1)

    init() {
        first.initialize(to: 0)
        lock.initialize(to: SpinLock())
    }

    deinit {
        first.deallocate()
        lock.deallocate()
    }

    func note() {
        lock.pointee.lock()
        if first.pointee == 0 { first.pointee = Clock.nanos() - start }
        lock.pointee.unlock()
    }

    var firstSeconds: Double? {
        lock.pointee.lock()
        defer { lock.pointee.unlock() }
        return first.pointee == 0 ? nil : Double(first.pointee) / 1e9
    }
}

/// What `vmastress validate --json` writes (docs/results-schema.md).
public struct ValidationFile: Codable, Sendable {
    public static let schemaID = "vmastress.validate/1"
    public var schema = ValidationFile.schemaID
    public var tool: String
    public var machine: Machine
    /// The stop signal that ended the run early (SIGINT...); `results` then holds the validations that finished.
    public var interruptedBy: String?
    public var results: [ValidationResult]

    public init(tool: String, machine: Machine, interruptedBy: String?, results: [ValidationResult]) {
        self.tool = tool
        self.machine = machine
        self.interruptedBy = interruptedBy
        self.results = results
    }
}
