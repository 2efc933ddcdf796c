import Glibc
import Synchronization

/// Unbuffered writes to standard error (diagnostics, progress), safe from any thread.
public enum Console {
    public static func error(_ text: String) {
        var line = text
        if !line.hasSuffix("\n") { line += "\n" }
        line.withCString { p in _ = write(2, p, strlen(p)) }
    }
}

/// The first error writing standard output (0: none yet).
private let stdoutFailure = Atomic<Int32>(0)

extension Console {
    /// One line to standard output, written at once (stat lines between runs' reports).
    /// A failed write is remembered (`stdoutError`), not fatal: with SIGPIPE
    /// ignored, a reader that went away (EPIPE) stops the printing, not the run.
    public static func out(_ text: String) {
        var line = text
        if !line.hasSuffix("\n") { line += "\n" }
        if stdoutFailure.load(ordering: .relaxed) != 0 { return }
        line.withCString { p in
            var off = 0, count = strlen(p)
            while off < count {
                let n = write(1, p + off, count - off)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    _ = stdoutFailure.compareExchange(expected: 0, desired: n < 0 ? errno : EIO, ordering: .relaxed)
                    return
                }
                off += n
            }
        }
    }

    /// The errno of the first failed write to standard output, or 0.
    public static var stdoutError: Int32 { stdoutFailure.load(ordering: .relaxed) }
}

extension Console {
    /// Text to standard error as is (a progress line redrawn with a carriage return).
    public static func errorRaw(_ text: String) {
        text.withCString { p in _ = write(2, p, strlen(p)) }
    }
}
