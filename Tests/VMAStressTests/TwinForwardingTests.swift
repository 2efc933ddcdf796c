import Foundation
import Testing

private let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Sources/VMAStress")

/// A twin forwards every requirement to its base unless it overrides it: a
/// forwarder forgotten in `BustedTwin` or `BustedLocklessTwin` would give
/// every twin the protocol's default instead of its base's behaviour, and
/// nothing else would notice. Read from the sources: each requirement of
/// Strategy, WriteSide and LocklessSteps against the forwarding extension.
@Suite("Twin forwarding")
struct TwinForwardingTests {
    /// Requirements a twin must not forward, and why.
    static let notForwarded: [String: String] = [
        "init(mm:)": "a twin builds its own base",
        "info": "a twin has an info of its own",
        // The model's shared mutations, so that they call the twin's own (maybe broken) hooks.
        "perform(_:)": "the default runs the shared mutations over the twin's hooks",
    ]

    @Test func everyStrategyRequirementIsForwarded() throws {
        let required = try Self.requirements("Strategies/Strategy.swift", protocol: "Strategy")
            .union(Self.requirements("Store/WriteSide.swift", protocol: "WriteSide"))
        let forwarded = try Self.members("Strategies/Busted/BustedTwin.swift", extension: "BustedTwin")
        #expect(required.count > 20, "the scan found the requirements")
        let missing = required.subtracting(forwarded).subtracting(Self.notForwarded.keys)
        #expect(missing.isEmpty, "BustedTwin does not forward \(missing.sorted())")
    }

    @Test func everyLocklessStepIsForwarded() throws {
        let required = try Self.requirements("Strategies/LocklessFault.swift", protocol: "LocklessSteps")
        let forwarded = try Self.members("Strategies/LocklessFault.swift", extension: "BustedLocklessTwin")
        #expect(required.count > 10, "the scan found the steps")
        let missing = required.subtracting(forwarded)
        #expect(missing.isEmpty, "BustedLocklessTwin does not forward \(missing.sorted())")
    }

    /// The scan sees a forwarder that is missing.
    @Test func aMissingForwarderIsSeen() {
        let body = "protocol P {\n    func a(_ x: Int)\n    func b(count: Int, _ y: Int) -> Int\n    var c: Int { get }\n}\n"
        #expect(Self.signatures(in: Self.body(of: "protocol P", in: body)!) == ["a(_:)", "b(count:_:)", "c"])
    }

    static func requirements(_ file: String, protocol name: String) throws -> Set<String> {
        let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
        return Set(signatures(in: try #require(body(of: "protocol \(name)", in: text))))
    }

    static func members(_ file: String, extension name: String) throws -> Set<String> {
        let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
        return Set(signatures(in: try #require(body(of: "extension \(name) {", in: text))))
    }

    /// The text between the braces of the first declaration that starts with `head`.
    static func body(of head: String, in text: String) -> String? {
        guard let start = text.range(of: head), let open = text[start.lowerBound...].firstIndex(of: "{") else { return nil }
        var depth = 0
        for i in text[open...].indices {
            if text[i] == "{" { depth += 1 }
            if text[i] == "}" { depth -= 1 }
            if depth == 0 { return String(text[text.index(after: open)..<i]) }
        }
        return nil
    }

    /// `name(label:label:)` for each func (and init) and `name` for each var at the body's top level.
    static func signatures(in body: String) -> [String] {
        var out: [String] = [], depth = 0
        for line in body.split(separator: "\n", omittingEmptySubsequences: false) {
            let code = line.trimmingCharacters(in: .whitespaces)
            if depth == 0 && !code.hasPrefix("//") {
                let words = code.split(whereSeparator: { " (:<{".contains($0) }).map(String.init)
                if let f = words.firstIndex(of: "func"), f + 1 < words.count, let at = code.range(of: "func " + words[f + 1]) {
                    out.append(words[f + 1] + "(" + labels(code[at.upperBound...]) + ")")
                } else if let v = words.firstIndex(of: "var"), v + 1 < words.count {
                    out.append(words[v + 1])
                } else if let at = code.range(of: "init(") {
                    out.append("init(" + labels(code[code.index(before: at.upperBound)...]) + ")")
                }
            }
            depth += line.filter { $0 == "{" }.count - line.filter { $0 == "}" }.count
        }
        return out
    }

    /// The argument labels of the parameter list `text` starts with: `(_ x: Int, count: Int)` is `_:count:`.
    static func labels(_ text: Substring) -> String {
        guard text.first == "(", let close = text.firstIndex(of: ")") else { return "" }
        return text[text.index(after: text.startIndex)..<close].split(separator: ",").compactMap { p -> String? in
            p.split(separator: ":").first?.split(separator: " ").first.map { "\($0):" }
        }.joined()
    }
}
