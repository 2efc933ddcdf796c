import Foundation
import Testing

/// The fuzz targets replay the seed corpus (and any input `make fuzz` found and
/// a fix added) without libFuzzer: every input read, none traps.
@Suite("Fuzz corpus replays")
struct FuzzCorpusTests {
    static let corpus = FileManager.default.currentDirectoryPath + "/bench/fuzz/corpus"

    static var targets: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: corpus)) ?? []).sorted()
    }

    @Test func everyTargetHasSeeds() {
        #expect(Self.targets == ["mix", "path", "results", "suite", "values"])
    }

    @Test(arguments: targets)
    func theSeedCorpusReplaysWithoutACrash(_ target: String) throws {
        let fuzz = URL(fileURLWithPath: vmastressBinary()).deletingLastPathComponent().appendingPathComponent("vmastress-fuzz").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: fuzz)
        p.arguments = [target, Self.corpus + "/" + target]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(e)")
        #expect(o.hasPrefix("\(target): ") && o.contains("replayed, no crash"), "\(o)")
    }
}
