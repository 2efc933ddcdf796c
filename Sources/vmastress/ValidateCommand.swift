import ArgumentParser
import CSupport
import Foundation
import VMAStress

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Stress every synchronisation primitive, and show its busted twin being caught.",
        discussion: """
            Pipe stress (rcutorture's Reader Pipe) for each liburcu flavor and for SRCU, torn-read \
            detection for seqcount, mutual exclusion for the locks. A correct primitive passes with \
            0 failures over --duration; a busted twin passes when it is caught within --busted-timeout.
            Exit codes: 0 all passed, 1 a primitive failed or a twin was not caught, 2 usage error, \
            128+N stopped by signal N (the validations that finished are printed and written).
            """)

    @Option(parsing: .unconditional, help: "How long each correct primitive is stressed.")
    var duration = "1s"

    @Option(parsing: .unconditional, help: "How long a busted twin may take to be caught.")
    var bustedTimeout = "5s"

    @Option(help: "Only these (comma-separated names; see --list).")
    var only: String?

    @Option(help: "Only these liburcu flavors' pipe tests (comma-separated: memb, qsbr, mb, signal, bp); the others still run.")
    var rcuFlavor: String?

    @Flag(help: "List the validations and exit.")
    var list = false

    @Option(help: "Write the results as JSON to this file (atomically).")
    var json: String?

    func validate() throws {
        if ParsePass.skipsChecks { return }
        try usageChecks {
            guard try DurationText.seconds(duration) > 0 else { throw ValidationError("--duration must be more than zero") }
            guard try DurationText.seconds(bustedTimeout) > 0 else { throw ValidationError("--busted-timeout must be more than zero") }
            _ = try selected()
            if let json { try AtomicFile.checkWritable(json) }
        }
    }

    func selected() throws -> [PrimitiveValidation.Entry] {
        let flavors = try rcuFlavor.map(parseFlavors)
        let all = PrimitiveValidation.all.filter { e in
            guard let flavors, let kind = RCUFlavorKind.allCases.first(where: { e.name.contains("rcu-\($0.rawValue)") }) else {
                return true
            }
            return flavors.contains(kind)
        }
        guard let only else { return all }
        let names = only.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !names.contains("") else { throw ValidationError("--only needs a comma-separated list of names ('vmastress validate --list')") }
        return try names.map { name in
            guard let e = PrimitiveValidation.named(String(name)) else {
                throw ValidationError("unknown validation '\(name)'; 'vmastress validate --list' lists them")
            }
            return e
        }
    }

    func run() throws {
        let entries = try selected()
        if list {
            Console.out(TextReport.table(header: ["name", "test", "kind", "what"], rows: entries.map {
                [$0.name, $0.test, $0.busted ? "busted twin" : "primitive", $0.summary]
            }, leftColumns: 4))
            return
        }
        vms_install_stop_signals()
        let results = PrimitiveValidation.run(
            entries, seconds: try DurationText.seconds(duration), bustedSeconds: try DurationText.seconds(bustedTimeout)
        ) { Console.error("validate: \($0.name) (\($0.test))") }
        Console.out(TextReport.table(
            header: ["name", "test", "ops", "updates", "failures", "result", "pipe 0..10"],
            rows: results.map { r in
                let result: String
                if r.busted {
                    result = r.failures > 0 ? "caught in \(TextReport.fixed(r.firstFailureSeconds ?? 0, 3)) s" : "NOT CAUGHT"
                } else {
                    result = r.failures == 0 ? "ok" : "FAILED"
                }
                return [r.name, r.test, "\(r.operations)", "\(r.updates)", "\(r.failures)", result,
                        r.pipe.map { $0.map(String.init).joined(separator: " ") } ?? "-"]
            }, leftColumns: 2))
        let signal = vms_stop_signal()
        try writeResults(ValidationFile(tool: "vmastress \(VMAStressCommand.configuration.version)", machine: .current(),
                                        interruptedBy: Runner.stopSignalName(), results: results), to: json)
        let failed = results.filter { !$0.passed }
        Console.out("")
        if !failed.isEmpty {
            Console.out("--- End of test: FAILURE: " + failed.map(\.name).joined(separator: ", "))
            throw Exit(status: ExitStatus.violation, message: nil)
        }
        if signal != 0 {
            Console.out("--- End of test: INTERRUPTED by \(Runner.stopSignalName() ?? "a signal") after \(results.count) of \(entries.count) validations")
            throw Exit(status: ExitStatus.interrupted(by: signal), message: nil)
        }
        Console.out("--- End of test: SUCCESS (\(results.count) validations)")
    }
}
