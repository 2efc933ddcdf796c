import Foundation
import Glibc

/// Writes files so a reader never sees half of one: write a temporary file in
/// the same directory, flush it, rename it over the target.
public enum AtomicFile {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Fails unless `path`'s directory exists and is writable (checked before a run, not after).
    public static func checkWritable(_ path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let d = dir.isEmpty ? "." : dir
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: d, isDirectory: &isDir), isDir.boolValue else {
            throw Failure(description: "cannot write '\(path)': directory '\(d)' does not exist")
        }
        guard access(d, W_OK) == 0 else { throw Failure(description: "cannot write '\(path)': directory '\(d)' is not writable") }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw Failure(description: "cannot write '\(path)': it is a directory")
        }
    }

    public static func write(_ data: Data, to path: String) throws {
        let tmp = path + ".tmp.\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw Failure(description: "cannot create '\(tmp)': \(String(cString: strerror(errno)))") }
        let ok = data.withUnsafeBytes { buf -> Bool in
            var off = 0
            while off < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + off, buf.count - off)
                if n <= 0 { return false }
                off += n
            }
            return fsync(fd) == 0
        }
        close(fd)
        guard ok, rename(tmp, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(tmp)
            throw Failure(description: "cannot write '\(path)': \(why)")
        }
    }

    public static func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        var data = try enc.encode(value)
        data.append(0x0A)
        try write(data, to: path)
    }
}
