import ArgumentParser
import Synchronization
import VMAStress

/// ArgumentParser runs a command's `validate()` before it reports the arguments
/// it did not recognise, so `compare a.json --bogus 5` would complain about a
/// file named 5. Main parses twice: first with the checks off (`shapeOnly`), so
/// an unknown option or a missing value is the error a user sees, then for real.
enum ParsePass {
    static let shapeOnly = Atomic<Bool>(false)

    /// Whether a `validate()` should skip its checks on this pass.
    static var skipsChecks: Bool { shapeOnly.load(ordering: .relaxed) }
}

/// Runs a command's checks so that any failure is a usage error (exit 2).
func usageChecks(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as ValidationError {
        throw e
    } catch {
        throw ValidationError("\(error)")
    }
}

/// Writes `value` as JSON to `path` atomically; a failure is a runtime error (exit 3).
func writeResults<T: Encodable>(_ value: T, to path: String?) throws {
    guard let path else { return }
    do {
        try AtomicFile.writeJSON(value, to: path)
    } catch {
        throw Exit(status: ExitStatus.runtime, message: "\(error)")
    }
}

/// `--threshold 5%` or `5`: a percentage from 0 to 100.
func parsePercent(_ text: String, option: String, example: String) throws -> Double {
    let number = text.hasSuffix("%") ? String(text.dropLast()) : text
    guard let v = Double(number), v >= 0, v < 100 else {
        throw ValidationError("\(option) takes a percentage from 0 to 100, like \(example)")
    }
    return v
}

/// `--rcu-flavor memb,qsbr`: the liburcu flavors named.
func parseFlavors(_ text: String) throws -> [RCUFlavorKind] {
    try text.split(separator: ",").map { name in
        guard let k = RCUFlavorKind(rawValue: String(name)) else {
            throw ValidationError("unknown RCU flavor '\(name)': memb, qsbr, mb, signal or bp")
        }
        return k
    }
}
