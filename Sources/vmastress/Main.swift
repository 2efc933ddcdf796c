import ArgumentParser
import Glibc
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
            var command = try parseAsRoot()
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
            let message = self.message(for: error)
                .split(separator: "\n").first.map(String.init) ?? "invalid command line"
            Console.error("vmastress: error: \(message) (see 'vmastress help')")
            finish(ExitStatus.usage)
        }
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
