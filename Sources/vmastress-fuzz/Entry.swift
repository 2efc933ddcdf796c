import Foundation

#if VMASTRESS_LIBFUZZER
// Built by `make fuzz` with -sanitize=fuzzer: libFuzzer's own main drives this,
// on the target VMASTRESS_FUZZ_TARGET names.
nonisolated(unsafe) private var target: (@Sendable (Data) -> Void)?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    if target == nil {
        let name = ProcessInfo.processInfo.environment["VMASTRESS_FUZZ_TARGET"] ?? ""
        guard let t = FuzzTargets.named(name) else {
            FileHandle.standardError.write(Data("VMASTRESS_FUZZ_TARGET must be one of: \(FuzzTargets.all.map(\.name).joined(separator: ", "))\n".utf8))
            exit(2)
        }
        target = t
    }
    target!(Data(bytes: bytes, count: count))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ testOne: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

// SwiftPM links an executable's entry point under this name (main is an alias of it),
// so libFuzzer's driver is started from here rather than from its own main.
@_cdecl("vmastress_fuzz_main")
public func fuzzMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    var count = argc
    var args = argv
    return runDriver(&count, &args) { fuzzOne($0, $1) }
}
#else
/// Without libFuzzer: replays a corpus, `vmastress-fuzz TARGET FILE|DIR...`, each
/// input once (the seed corpus in make test; a crash found by `make fuzz` after its fix).
@main
struct FuzzReplay {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        guard let name = args.first, let run = FuzzTargets.named(name) else {
            FileHandle.standardError.write(Data("usage: vmastress-fuzz TARGET FILE|DIR... (targets: \(FuzzTargets.all.map(\.name).joined(separator: ", ")))\n".utf8))
            exit(2)
        }
        var inputs = 0
        for path in args.dropFirst() {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                FileHandle.standardError.write(Data("vmastress-fuzz: no file \(path)\n".utf8))
                exit(2)
            }
            let files = isDir.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
                : [path]
            for f in files {
                guard let data = FileManager.default.contents(atPath: f) else { continue }
                run(data)
                inputs += 1
            }
        }
        print("\(name): \(inputs) input(s) replayed, no crash")
    }
}
#endif
