import Foundation
@testable import VMAStress

/// A small mm with the classic strategy, for single-threaded unit tests.
struct Fixture {
    let mm: MM
    let s: MMapLock
    var ctx: FaultContext
    let stats = WorkerStats(name: "test", role: .faulter, index: 0)

    init(pages: UInt64 = 2048, index: IndexKind = .rbtree) {
        mm = MM(pages: pages, maxVMAs: 512, index: index)
        s = MMapLock(mm: mm)
        ctx = stats.faultContext()
    }

    func destroy() {
        mm.destroy()
    }

    /// The index as (start, end, prot) triples.
    var vmas: [(UInt64, UInt64, Prot)] {
        mm.list.all.map { ($0.start, $0.end, $0.prot) }
    }

    mutating func fault(_ page: UInt64, write: Bool = false) -> FaultResult {
        s.fault(page, write: write, &ctx)
    }

    func pte(_ page: UInt64) -> PTE { mm.pageTable.pte(at: page) }
}

/// The vmastress binary that `swift test` built next to the test bundle.
func vmastressBinary() -> String {
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var dir = exe.deletingLastPathComponent()
    // The bundle may be a directory (…/vmastressPackageTests.xctest/…) on some toolchains.
    while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("vmastress").path), dir.path != "/" {
        dir = dir.deletingLastPathComponent()
    }
    return dir.appendingPathComponent("vmastress").path
}

struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
    /// Seconds from the SIGINT to the exit, when one was sent.
    var secondsAfterSignal: Double?
}

/// Runs the binary; `interruptAfter` sends SIGINT after that many seconds;
/// `signals` sends each signal that many seconds after the start (in order).
func runVMAStress(_ args: [String], interruptAfter: Double? = nil, signals: [(after: Double, signal: Int32)] = [],
                  in directory: String? = nil, environment: [String: String] = [:]) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: vmastressBinary())
    p.arguments = args
    if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    let started = Date()
    try p.run()
    var signalledAt: Date?
    if let t = interruptAfter {
        Thread.sleep(forTimeInterval: t)
        signalledAt = Date()
        kill(p.processIdentifier, SIGINT)
    }
    for s in signals {
        let wait = s.after - Date().timeIntervalSince(started)
        if wait > 0 { Thread.sleep(forTimeInterval: wait) }
        if signalledAt == nil { signalledAt = Date() }
        kill(p.processIdentifier, s.signal)
    }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return ProcessResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                         stderr: String(decoding: e, as: UTF8.self),
                         secondsAfterSignal: signalledAt.map { Date().timeIntervalSince($0) })
}

func temporaryPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmastress-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}
