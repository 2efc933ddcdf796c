import ArgumentParser
import VMAStress

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

/// `--rcu-flavor memb,qsbr`: the liburcu flavors named.
func parseFlavors(_ text: String) throws -> [RCUFlavorKind] {
    try text.split(separator: ",").map { name in
        guard let k = RCUFlavorKind(rawValue: String(name)) else {
            throw ValidationError("unknown RCU flavor '\(name)': memb, qsbr, mb, signal or bp")
        }
        return k
    }
}
