import Foundation
import CSupport
import Glibc

/// Writes files so a reader never sees half of one: write a temporary file in
/// the same directory, flush it, rename it over the target.
public enum AtomicFile {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Fails unless `path` names a regular file or nothing, in a directory
    /// that exists and takes new files (tried: a probe file is created and
    /// removed). Devices, FIFOs, sockets, directories, symlinks to any of
    /// those, and empty paths are refused: an atomic write replaces the node.
    /// Checked before a run, not after.
    public static func checkWritable(_ path: String) throws {
        guard !path.isEmpty else { throw Failure(description: "an output path is empty") }
        guard !path.hasSuffix("/") else { throw Failure(description: "cannot write '\(path)': it names a directory") }
        if let why = PathText.lengthProblem(path) { throw Failure(description: "cannot write '\(path.prefix(40))...': \(why)") }
        var st = stat()
        if stat(path, &st) == 0 {
            let kind = st.st_mode & S_IFMT
            if kind == S_IFDIR { throw Failure(description: "cannot write '\(path)': it is a directory") }
            if kind != S_IFREG {
                throw Failure(description: "cannot write '\(path)': it is not a regular file (a device, FIFO or socket); results are written by replacing the file")
            }
        } else if lstat(path, &st) == 0 {
            throw Failure(description: "cannot write '\(path)': it is a dangling symbolic link")
        }
        let target = resolved(path)
        for p in [path, linkTarget(path) ?? "", target] {
            if let fs = ["/proc/", "/sys/", "/dev/"].first(where: { p.hasPrefix($0) && !p.hasPrefix("/dev/shm/") }) {
                throw Failure(description: "cannot write '\(path)': it leads into \(fs), not a place for result files")
            }
        }
        try probe(directory: PathText.directory(of: target), for: path)
    }

    /// Fails unless a file can be created in `directory` (create and remove one).
    public static func probe(directory d: String, for path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: d, isDirectory: &isDir), isDir.boolValue else {
            throw Failure(description: "cannot write '\(path)': directory '\(d)' does not exist")
        }
        let probe = d + "/.vmastress-probe.\(getpid())"
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            throw Failure(description: "cannot write '\(path)': cannot create files in '\(d)': \(String(cString: strerror(errno)))")
        }
        close(fd)
        unlink(probe)
    }

    /// Where the symbolic link `path` points, as written in the link (nil: not a link).
    static func linkTarget(_ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A symbolic link to a regular file is written through: the link stays, its target is replaced.
    static func resolved(_ path: String) -> String {
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFLNK, let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }

    public static func write(_ data: Data, to given: String) throws {
        let path = resolved(given)
        let tmp = PathText.temporary(beside: path)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw Failure(description: "cannot create '\(tmp)': \(String(cString: strerror(errno)))") }
        var failure: Int32 = 0
        data.withUnsafeBytes { buf in
            var off = 0
            while off < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + off, buf.count - off)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    failure = n < 0 ? errno : EIO
                    return
                }
                off += n
            }
            if fsync(fd) != 0 { failure = errno }
        }
        if close(fd) != 0 && failure == 0 { failure = errno }
        if failure == 0 && rename(tmp, path) != 0 { failure = errno }
        if failure != 0 {
            unlink(tmp)
            throw Failure(description: "cannot write '\(path)': \(String(cString: strerror(failure)))")
        }
    }

    public static func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
        try write(try jsonData(value), to: path)
    }

    /// Pretty, key-sorted JSON with a final newline.
    public static func jsonData<T: Encodable>(_ value: T) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        var data = try enc.encode(value)
        data.append(0x0A)
        return data
    }

    /// Fails unless `dir` can take a set of result files written by
    /// `writeDirectory`: a directory or nothing (not `/`), empty or holding
    /// only names of `known` (a previous set, which is replaced whole), in
    /// a parent that takes new entries. Creates missing parents.
    public static func checkDirectory(_ dir: String, known: Set<String>) throws {
        guard !dir.isEmpty else { throw Failure(description: "the output directory is empty ('')") }
        if let why = PathText.lengthProblem(dir) { throw Failure(description: "cannot write into '\(dir.prefix(40))...': \(why)") }
        let target = directoryPath(dir)
        guard target != "/" else { throw Failure(description: "refusing to write results over '/'") }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: target, isDirectory: &isDir) {
            guard isDir.boolValue else { throw Failure(description: "cannot write into '\(dir)': it is not a directory") }
            let names = (try? FileManager.default.contentsOfDirectory(atPath: target)) ?? []
            if let other = names.sorted().first(where: { !known.contains($0) }) {
                throw Failure(description: "'\(dir)' holds '\(other)', which is not a result file: give a new or empty directory, or a previous output of this command")
            }
        }
        // Nothing is created before the run (a usage error must leave no trace): the missing
        // parents are made when the results are written; the nearest one that exists must take files.
        var existing = PathText.directory(of: target)
        while !FileManager.default.fileExists(atPath: existing) && existing != "/" && existing != "." {
            existing = PathText.directory(of: existing)
        }
        var isParentDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: existing, isDirectory: &isParentDir), isParentDir.boolValue else {
            throw Failure(description: "cannot create '\(dir)': '\(existing)' is not a directory")
        }
        try probe(directory: existing, for: dir)
    }

    /// `dir` without trailing slashes, its symlinks resolved when it exists.
    static func directoryPath(_ dir: String) -> String {
        var d = dir
        while d.count > 1 && d.hasSuffix("/") { d.removeLast() }
        guard let real = realpath(d, nil) else { return d }
        defer { free(real) }
        return String(cString: real)
    }

    /// Writes a set of files (paths relative to `dir`) as one: into a fresh
    /// directory beside `dir`, then swapped into its place in one rename
    /// (renameat2 RENAME_EXCHANGE; the old set is then removed). A reader
    /// sees the old set or the new one, never a mix; on any failure the
    /// fresh directory is removed and `dir` is left as it was.
    public static func writeDirectory(_ files: [(path: String, data: Data)], to dir: String) throws {
        let target = directoryPath(dir)
        let fresh = PathText.temporary(beside: target, tag: "results")
        let fm = FileManager.default
        try? fm.removeItem(atPath: fresh)
        do {
            for f in files {
                let path = fresh + "/" + f.path
                try fm.createDirectory(atPath: PathText.directory(of: path), withIntermediateDirectories: true)
                try write(f.data, to: path)
            }
            if !fm.fileExists(atPath: target) {
                guard rename(fresh, target) == 0 else { throw Failure(description: "cannot move results into '\(dir)': \(String(cString: strerror(errno)))") }
            } else if vms_rename_exchange(fresh, target) == 0 {
                try? fm.removeItem(atPath: fresh)
            } else {
                // A file system without RENAME_EXCHANGE: two renames, the old set kept until the new one is in place.
                let old = fresh + ".old"
                guard rename(target, old) == 0 else { throw Failure(description: "cannot replace '\(dir)': \(String(cString: strerror(errno)))") }
                guard rename(fresh, target) == 0 else {
                    let why = String(cString: strerror(errno))
                    _ = rename(old, target)
                    throw Failure(description: "cannot move results into '\(dir)': \(why)")
                }
                try? fm.removeItem(atPath: old)
            }
        } catch let e as Failure {
            try? fm.removeItem(atPath: fresh)
            throw e
        } catch {
            try? fm.removeItem(atPath: fresh)
            throw Failure(description: "cannot write results into '\(dir)': \((error as NSError).localizedFailureReason ?? "\(error)")")
        }
    }
}
