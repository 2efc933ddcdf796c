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

            Exit codes: 0 success, 1 invariant violation, 2 usage error, 3 runtime error, \
            128+N interrupted by signal N (130 for SIGINT, 143 for SIGTERM).
            """,
        version: "0.1.0",
        subcommands: [RunCommand.self, SoakCommand.self, BenchCommand.self, CompareCommand.self, StrategiesCommand.self, WorkloadsCommand.self, ValidateCommand.self, TopologyCommand.self])

    /// Parses and runs, mapping every failure to a documented exit code and one line on stderr.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let e as Exit {
            if let m = e.message { Console.error("vmastress: error: \(m)") }
            Glibc.exit(e.status)
        } catch {
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Glibc.exit(ExitStatus.success)
            }
            let message = self.message(for: error)
                .split(separator: "\n").first.map(String.init) ?? "invalid command line"
            Console.error("vmastress: error: \(message) (see 'vmastress help')")
            Glibc.exit(ExitStatus.usage)
        }
    }
}
