import Glibc

/// Unbuffered writes to standard error (diagnostics, progress), safe from any thread.
public enum Console {
    public static func error(_ text: String) {
        var line = text
        if !line.hasSuffix("\n") { line += "\n" }
        line.withCString { p in _ = write(2, p, strlen(p)) }
    }
}

extension Console {
    /// One line to standard output, written at once (stat lines between runs' reports).
    public static func out(_ text: String) {
        var line = text
        if !line.hasSuffix("\n") { line += "\n" }
        line.withCString { p in _ = write(1, p, strlen(p)) }
    }
}

extension Console {
    /// Text to standard error as is (a progress line redrawn with a carriage return).
    public static func errorRaw(_ text: String) {
        text.withCString { p in _ = write(2, p, strlen(p)) }
    }
}
