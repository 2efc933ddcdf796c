import ArgumentParser
import Glibc
import Foundation
import VMAStress

@main
struct VMAStressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vmastress",
        abstract: "Stress and benchmark the locking strategies Linux tried for its VMA tree.",
        discussion: """
            Faulter and mutator threads (real pthreads) hammer a model address space \
            guarded by the chosen strategy, while a checker thread validates invariants.

            Exit codes: 0 success, 1 invariant violation, 2 usage error (nothing ran), 3 runtime \
            error (a thread could not start, results or stdout could not be written), 128+N \
            interrupted by signal N (129 SIGHUP, 130 SIGINT, 143 SIGTERM; what was measured is \
            printed and written; a second stop signal changes nothing). SIGQUIT prints a thread \
            dump and the run goes on. README.md lists every option's range.
            """,
        version: "0.1.0",
        subcommands: [RunCommand.self, SoakCommand.self, BenchCommand.self, CompareCommand.self, StrategiesCommand.self, InvariantsCommand.self, WorkloadsCommand.self, CalibrateCommand.self, ValidateCommand.self, TopologyCommand.self])

    /// Parses and runs, mapping every failure to a documented exit code and one line on stderr.
    static func main() {
        do {
            if let twice = repeatedOption(Array(CommandLine.arguments.dropFirst())) {
                throw ValidationError("\(twice) is given twice; give each option once")
            }
            ParsePass.shapeOnly.store(true, ordering: .relaxed)
            _ = try parseAsRoot()
            ParsePass.shapeOnly.store(false, ordering: .relaxed)
            var command = try parseAsRoot()
            // For tests and generated cases: every check, nothing run.
            if getenv("VMASTRESS_CHECK_ONLY") != nil && !(command is VMAStressCommand) { finish(ExitStatus.success) }
            try command.run()
            finish(ExitStatus.success)
        } catch let e as Exit {
            if let m = e.message { Console.error("vmastress: error: \(m)") }
            finish(e.status)
        } catch {
            if exitCode(for: error) == .success {
                Console.out(fullMessage(for: error))
                finish(ExitStatus.success)
            }
            let message = oneLine(self.message(for: error))
            Console.error("vmastress: error: \(message) (see 'vmastress help')")
            finish(ExitStatus.usage)
        }
    }

    /// The parser's message on one line: its list of choices ("Please provide one of the
    /// following:" then "- a" lines) joined with commas instead of cut after the first line.
    static func oneLine(_ message: String) -> String {
        let lines = message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let first = lines.first else { return "invalid command line" }
        let rest = lines.dropFirst().map { $0.hasPrefix("- ") ? String($0.dropFirst(2)) : $0 }
        return rest.isEmpty ? first : first + " " + rest.joined(separator: ", ")
    }

    /// The first `--option` given twice (the last would silently win), up to a `--`.
    static func repeatedOption(_ args: [String]) -> String? {
        var seen = Set<Substring>()
        for a in args {
            if a == "--" { break }
            guard a.hasPrefix("--"), a.count > 2 else { continue }
            let name = a.split(separator: "=", maxSplits: 1)[0]
            if !seen.insert(name).inserted { return String(name) }
        }
        return nil
    }

    /// Exits with `status`, unless standard output could not be written
    /// (a full disk, /dev/full): then exit 3 with a message. A reader that
    /// went away (EPIPE, `| head`) is not an error: the files were written.
    static func finish(_ status: Int32) -> Never {
        let e = Console.stdoutError
        if e != 0 && e != EPIPE {
            Console.error("vmastress: error: cannot write standard output: \(String(cString: strerror(e)))")
            Glibc.exit(status == ExitStatus.success ? ExitStatus.runtime : status)
        }
        Glibc.exit(status)
    }
}
