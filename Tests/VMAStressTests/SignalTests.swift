import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import VMAStress

/// Stop signals, a second one while stopping, SIGHUP, SIGQUIT, a reader
/// that goes away and a full stdout: what was measured is always written.
@Suite("Signals and lost output", .serialized)
struct SignalTests {
    private func runs(_ path: String) throws -> [RunResult] {
        try JSONDecoder().decode(ResultsFile.self, from: Data(contentsOf: URL(fileURLWithPath: path))).runs
    }

    private let run = ["run", "--strategy", "mmap-lock", "--duration", "10s", "--warmup", "0s", "--seed", "2"]

    @Test(arguments: [(SIGINT, SIGINT, Int32(130), "SIGINT"), (SIGTERM, SIGTERM, 143, "SIGTERM"),
                      (SIGTERM, SIGINT, 143, "SIGTERM"), (SIGHUP, SIGHUP, 129, "SIGHUP")])
    func aSecondStopSignalStillWritesEverything(_ first: Int32, _ second: Int32, _ status: Int32, _ name: String) throws {
        let path = temporaryPath("twice-\(first)-\(second).json")
        let r = try runVMAStress(run + ["--json", path], signals: [(1.5, first), (1.55, second)])
        #expect(r.status == status, "\(r.stderr)")
        #expect(r.stdout.contains("--- End of test: INTERRUPTED by \(name)"))
        let results = try runs(path)
        #expect(results.count == 1 && results[0].verdict == .interrupted && results[0].interruptedBy == name)
        #expect(results[0].op(.fault)?.count ?? 0 > 0)
    }

    @Test func sigquitPrintsAThreadDumpAndTheRunGoesOn() throws {
        let path = temporaryPath("quit.json")
        let r = try runVMAStress(["run", "--strategy", "mmap-lock", "--duration", "3s", "--warmup", "0s", "--json", path],
                                 signals: [(1.0, SIGQUIT)])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("--- SIGQUIT: thread dump (the run goes on)"))
        #expect(r.stderr.contains("faulter-0"))
        #expect(r.stdout.contains("SIGQUIT: 1 thread dump(s)"))
        #expect(r.stdout.contains("--- End of test: SUCCESS"))
        #expect(try runs(path)[0].quitDumps == 1)
    }

    /// Runs with stdout a pipe whose reader is gone at once (`| head -0`).
    private func runWithClosedStdout(_ args: [String]) throws -> (status: Int32, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: vmastressBinary())
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try out.fileHandleForReading.close()
        try p.run()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: e, as: UTF8.self))
    }

    @Test func aClosedPipeStopsThePrintingNotTheRun() throws {
        let path = temporaryPath("pipe.json")
        let r = try runWithClosedStdout(["run", "--duration", "2s", "--warmup", "0s", "--stat-interval", "100ms", "--json", path])
        #expect(r.status == 0, "\(r.stderr)")
        let results = try runs(path)
        #expect(results[0].verdict == .success && results[0].measuredSeconds > 1.5)
    }

    @Test func aSoakWhoseReaderLeftStillWritesItsJSONAndJUnit() throws {
        let json = temporaryPath("soak-pipe.json"), junit = temporaryPath("soak-pipe.xml")
        let r = try runWithClosedStdout(["soak", "--duration", "5s", "--phase", "2s", "--seed", "3", "--strategy", "mmap-lock",
                                         "--json", json, "--junit", junit])
        #expect(r.status == 0, "\(r.stderr)")
        let s = try JSONDecoder().decode(SoakResult.self, from: Data(contentsOf: URL(fileURLWithPath: json)))
        #expect(s.verdict == .success && !s.phases.isEmpty)
        let xml = try XMLDocument(contentsOf: URL(fileURLWithPath: junit))
        #expect(xml.rootElement()?.name == "testsuites")
    }

    @Test func aFullStdoutIsExitThreeWithAMessage() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: vmastressBinary())
        p.arguments = ["run", "--duration", "500ms", "--warmup", "0s"]
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/full")
        let err = Pipe()
        p.standardError = err
        try p.run()
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 3)
        #expect(e.contains("cannot write standard output: No space left on device"), "\(e)")
    }

    @Test func aSoakKilledBetweenPhasesSaysIncomplete() throws {
        let json = temporaryPath("soak-killed.json"), junit = temporaryPath("soak-killed.xml")
        // The previous run's report, which a killed soak must not leave standing.
        try "<testsuites name=\"vmastress soak\" tests=\"1\" failures=\"0\"/>".write(toFile: junit, atomically: true, encoding: .utf8)
        let r = try runVMAStress(["soak", "--duration", "30s", "--phase", "2s", "--seed", "5", "--strategy", "mmap-lock",
                                  "--json", json, "--junit", junit], signals: [(4.5, SIGKILL)])
        #expect(r.status == 9 || r.status == 137 || r.status == SIGKILL)
        let s = try JSONDecoder().decode(SoakResult.self, from: Data(contentsOf: URL(fileURLWithPath: json)))
        #expect(s.verdict == .incomplete, "\(s.verdict)")
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        #expect(xml.contains("<error type=\"INCOMPLETE\""), "\(xml)")
    }

    /// validate and bench primitives stop at a signal like run: what finished is printed and written.
    @Test(arguments: [["validate", "--duration", "20s"],
                      ["bench", "primitives", "--only", "spinlock,noise", "--cell-time", "2s", "--threads", "1"]])
    func measuringSubcommandsWriteWhatFinishedOnASignal(_ args: [String]) throws {
        let path = temporaryPath("\(args[0])-signal.json")
        try? FileManager.default.removeItem(atPath: path)
        let r = try runVMAStress(args + ["--json", path], signals: [(1.0, SIGINT), (1.05, SIGINT)])
        #expect(r.status == 130, "\(r.stderr)")
        #expect(r.secondsAfterSignal ?? 99 < 3, "took \(r.secondsAfterSignal ?? -1) s to stop")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        #expect(object?["interruptedBy"] as? String == "SIGINT")
        #expect((object?["schema"] as? String)?.hasPrefix("vmastress.") == true)
    }

    @Test func benchInterruptedTwiceWritesAWholeSetAndNoTemporaries() throws {
        let dir = temporaryPath("bench-signals")
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let suite = dir + "/tiny.suite"
        try "strategies = mmap-lock, spf-srcu\nworkloads = page-fault\nthreads = 1\nrepetitions = 2\nduration = 1s\nwarmup = 0s\n"
            .write(toFile: suite, atomically: true, encoding: .utf8)
        let out = dir + "/out"
        // A first, complete set; then one cut short by two SIGINTs replaces it whole.
        let full = try runVMAStress(["bench", suite, "--out", out])
        #expect(full.status == 0, "\(full.stderr)")
        let r = try runVMAStress(["bench", suite, "--out", out], signals: [(1.5, SIGINT), (1.52, SIGINT)])
        #expect(r.status == 130, "\(r.stderr)")
        let result = try JSONDecoder().decode(BenchResult.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/results.json")))
        #expect(!result.complete)
        for f in ["results.csv", "results.md", "report.html"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + f), "\(f)")
        }
        let csv = try String(contentsOfFile: out + "/results.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count == result.cells.count + 1, "results.csv is from another run than results.json")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp") }
        #expect(leftovers.isEmpty, "\(leftovers)")
        #expect(try FileManager.default.subpathsOfDirectory(atPath: out).filter { $0.contains(".tmp") }.isEmpty)
    }
}
