import Glibc
import Synchronization

/// Splits and checks paths by hand: Foundation's NSString path methods trap
/// on some short relative names ("r"), and a temporary name derived from a
/// long target can pass NAME_MAX after the target itself was accepted.
public enum PathText {
    /// The directory part of `path`: "." for a bare name, "/" for "/x".
    public static func directory(of path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        guard let slash = p.lastIndex(of: "/") else { return "." }
        let dir = p[..<slash]
        return dir.isEmpty ? "/" : String(dir)
    }

    /// nil when every component fits NAME_MAX and the whole PATH_MAX; else why not.
    public static func lengthProblem(_ path: String) -> String? {
        if path.utf8.count >= Int(PATH_MAX) { return "it is longer than PATH_MAX (\(PATH_MAX) bytes)" }
        if let long = path.split(separator: "/").first(where: { $0.utf8.count > Int(NAME_MAX) }) {
            return "the name '\(long.prefix(20))...' is \(long.utf8.count) bytes, more than NAME_MAX (\(NAME_MAX))"
        }
        return nil
    }

    /// Whether two paths name one file: the same last name in the same directory, whichever
    /// spelling reaches it ("r.json", "./r.json", "d/../r.json", a symlinked directory).
    public static func sameFile(_ a: String, _ b: String) -> Bool {
        func resolved(_ path: String) -> String {
            var p = Substring(path)
            while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
            let name = p.lastIndex(of: "/").map { p[p.index(after: $0)...] } ?? p
            guard let dir = realpath(directory(of: path), nil) else { return path }
            defer { free(dir) }
            return String(cString: dir) + "/" + name
        }
        return resolved(a) == resolved(b)
    }

    /// A temporary name beside `path` of fixed length, whatever the target's.
    /// Unique within the process too (a checkpoint may write beside the final file).
    public static func temporary(beside path: String, tag: String = "tmp") -> String {
        directory(of: path) + "/.vmastress-\(tag).\(getpid()).\(serial.add(1, ordering: .relaxed).newValue)"
    }

    private static let serial = Atomic<Int>(0)
}
