import Glibc

/// The exit codes README.md documents.
enum ExitStatus {
    static let success: Int32 = 0
    /// The checker reported at least one invariant violation.
    static let violation: Int32 = 1
    /// Bad command line or option value; nothing ran.
    static let usage: Int32 = 2
    /// The run could not be carried out or its results not written (threads, files).
    static let runtime: Int32 = 3
    /// Interrupted by SIGINT or SIGTERM: 128 + the signal, after writing what was measured.
    static func interrupted(by signal: Int32) -> Int32 { 128 + signal }
}

/// Ends the process with a status after a one-line message on stderr.
struct Exit: Error {
    let status: Int32
    let message: String?
}
