import Dispatch
import Foundation
import Synchronization
import Testing

/// Malformed values generated from the parser's own description of every
/// subcommand (`--experimental-dump-help`), so an option added tomorrow is
/// covered without a case written for it. With VMASTRESS_CHECK_ONLY set the
/// binary parses and checks everything and runs nothing: each value must end
/// in exit 0 (it was valid) or exit 2 with one line, never a trap, and never
/// write a file.
@Suite("Generated option values", .serialized)
struct GeneratedOptionTests {
    /// Empty, signs, zero, words, overflow at every width, a wrong unit, empty list
    /// items, an hour where seconds were meant, paths that are not files.
    static let hostile = ["", "-1", "0", "abc", "1e400", "99999999999999999999", "-9223372036854775808",
                          "1zz", ",", "a,,b", "2h", "/dev/full", "../x"]

    struct Option {
        let name: String
        let choices: [String]
    }

    struct Command {
        let path: [String]
        let options: [Option]
        let positionals: Int
    }

    /// Every subcommand with its options that take a value (flags take none).
    static func commands() throws -> [Command] {
        let r = try runVMAStress(["--experimental-dump-help"])
        let root = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        var out: [Command] = []
        func walk(_ c: [String: Any], _ path: [String]) {
            let args = c["arguments"] as? [[String: Any]] ?? []
            let options = args.filter { $0["kind"] as? String == "option" }.compactMap { a -> Option? in
                guard let name = (a["preferredName"] as? [String: Any])?["name"] as? String else { return nil }
                return Option(name: "--" + name, choices: a["allValues"] as? [String] ?? [])
            }
            let positionals = args.filter { $0["kind"] as? String == "positional" }.count
            if !path.isEmpty && path != ["help"] { out.append(Command(path: path, options: options, positionals: positionals)) }
            for s in c["subcommands"] as? [[String: Any]] ?? [] { walk(s, path + [s["commandName"] as? String ?? "?"]) }
        }
        walk(try #require(root["command"] as? [String: Any]), [])
        return out
    }

    /// The words that make a command's positionals valid, so the option is what is judged.
    static func base(_ c: Command) -> [String] {
        switch c.path {
        case ["compare"]: return c.path + [MalformedInvocationTests.fixtures + "/good.json", MalformedInvocationTests.fixtures + "/good.json"]
        case ["bench", "suite"]: return c.path + [MalformedInvocationTests.quick]
        default: return c.path
        }
    }

    /// Every option's hostile values and its own choices (and one it does not have), an
    /// option that does not exist, and an option without its value.
    static func cases(_ c: Command) -> [[String]] {
        let b = base(c)
        var cases: [[String]] = [b + ["--no-such-option"], b + ["--no-such-option", "5"]]
        for o in c.options {
            cases.append(b + [o.name])
            for v in hostile + o.choices + (o.choices.isEmpty ? [] : [o.choices[0].uppercased() + "x"]) {
                cases.append(b + [o.name, v])
            }
        }
        return cases
    }

    @Test func everySubcommandIsDescribed() throws {
        let names = try Self.commands().map { $0.path.joined(separator: " ") }
        for expected in ["run", "soak", "bench suite", "bench primitives", "compare", "calibrate", "validate", "topology"] {
            #expect(names.contains(expected), "\(names)")
        }
        let total = try Self.commands().reduce(0) { $0 + Self.cases($1).count }
        #expect(total >= 1000, "only \(total) generated cases")
    }

    @Test(arguments: try! commands().map(\.path))
    func everyValueOfEveryOptionIsAcceptedOrRefusedInOneLine(_ path: [String]) throws {
        let command = try #require(try Self.commands().first { $0.path == path })
        let cases = Self.cases(command)
        let problems = Mutex<[String]>([])
        let cwd = temporaryPath("generated-\(path.joined(separator: "-"))")
        try? FileManager.default.removeItem(atPath: cwd)
        try FileManager.default.createDirectory(atPath: cwd, withIntermediateDirectories: true)
        DispatchQueue.concurrentPerform(iterations: cases.count) { i in
            let args = cases[i]
            let problem: String?
            do {
                let r = try runVMAStress(args, in: cwd, environment: ["VMASTRESS_CHECK_ONLY": "1"])
                let lines = r.stderr.split(separator: "\n")
                let traced = ["Fatal error", "Stack dump", "Backtrace", "Crash"].contains { r.stderr.contains($0) }
                if traced || (r.status != 0 && r.status != 2) {
                    problem = "exit \(r.status): \(r.stderr.prefix(300))"
                } else if r.status == 2 && (lines.count != 1 || !r.stderr.hasPrefix("vmastress: error: ")) {
                    problem = "not one error line: \(r.stderr.prefix(300))"
                } else if !r.stdout.isEmpty {
                    problem = "printed: \(r.stdout.prefix(200))"
                } else {
                    problem = nil
                }
            } catch {
                problem = "could not run: \(error)"
            }
            if let problem { problems.withLock { $0.append("\(args.joined(separator: " ")): \(problem)") } }
        }
        let found = problems.withLock { $0 }
        let shown = found.prefix(10).joined(separator: "\n")
        #expect(found.isEmpty, "\(found.count) of \(cases.count) cases:\n\(shown)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: cwd).isEmpty, "the cases wrote into their directory")
    }
}
