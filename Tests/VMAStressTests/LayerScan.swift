import Foundation

/// Finds references from one layer of Sources/VMAStress to a layer above it
/// (the order of docs/architecture.md's layer table). A source scan, not a
/// compiler: it sees the top-level types, protocols, type aliases and free
/// functions each folder declares, and every name the code uses outside
/// comments and string literals (interpolations count as code). A name used
/// after a dot is a member, not a reference, and a free function's name
/// counts only where it is called (followed by a parenthesis); methods added
/// to a lower type by an extension in a higher layer are not seen.
struct LayerScan {
    struct File {
        let path: String
        /// Index into the order; -1 for a file at the root of the module.
        let layer: Int
        let text: String
    }

    struct Upward: CustomStringConvertible, Equatable {
        let path: String
        let name: String
        let from: String
        let to: String
        var description: String { "\(path) (\(from)) uses \(name) of \(to)" }
    }

    let order: [String]
    let files: [File]

    static let declaring: Set<String> = ["struct", "enum", "class", "protocol", "typealias", "actor", "func"]
    static let modifiers: Set<String> = ["public", "internal", "private", "fileprivate", "package", "final", "open",
                                         "nonisolated", "indirect", "mutating", "static"]

    /// The names declared at the top level of `text` (lines that start in column 0), with their keyword.
    static func declarations(_ text: String) -> [(keyword: String, name: String)] {
        var names: [(String, String)] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let first = line.first, first.isLetter || first == "@" else { continue }
            var words = identifiers(in: code(of: String(line))).map(\.name)[...]
            while let w = words.first, modifiers.contains(w) || line.hasPrefix("@" + w) { words = words.dropFirst() }
            if let kw = words.first, declaring.contains(kw), words.count > 1 { names.append((kw, words[words.startIndex + 1])) }
        }
        return names
    }

    /// `text` with comments and the literal parts of strings blanked out.
    static func code(of text: String) -> String {
        enum Mode { case code(parens: Int), string(multiline: Bool) }
        var out = ""
        var stack: [Mode] = [.code(parens: 0)]
        let c = Array(text.unicodeScalars)
        var i = 0
        func at(_ k: Int, _ s: String) -> Bool {
            let u = Array(s.unicodeScalars)
            return k + u.count <= c.count && Array(c[k..<(k + u.count)]) == u
        }
        while i < c.count {
            switch stack.last! {
            case .code(let parens):
                if at(i, "//") {
                    while i < c.count && c[i] != "\n" { i += 1 }
                    continue
                }
                if at(i, "/*") {
                    i += 2
                    while i < c.count && !at(i, "*/") { i += 1 }
                    i += 2
                    out.append(" ")
                    continue
                }
                if at(i, "\"\"\"") { stack.append(.string(multiline: true)); i += 3; out.append(" "); continue }
                if c[i] == "\"" { stack.append(.string(multiline: false)); i += 1; out.append(" "); continue }
                if c[i] == "(" { stack[stack.count - 1] = .code(parens: parens + 1) }
                if c[i] == ")" {
                    if parens == 0 && stack.count > 1 { stack.removeLast(); i += 1; out.append(" "); continue }
                    stack[stack.count - 1] = .code(parens: max(0, parens - 1))
                }
                out.unicodeScalars.append(c[i])
                i += 1
            case .string(let multiline):
                if at(i, "\\(") { stack.append(.code(parens: 0)); i += 2; out.append(" "); continue }
                if c[i] == "\\" { i += 2; continue }
                if multiline ? at(i, "\"\"\"") : c[i] == "\"" {
                    stack.removeLast()
                    i += multiline ? 3 : 1
                    out.append(" ")
                    continue
                }
                if c[i] == "\n" { out.append("\n") }
                i += 1
            }
        }
        return out
    }

    /// Identifiers in code, each with whether a dot precedes it (a member)
    /// and whether a parenthesis follows it (a call).
    static func identifiers(in code: String) -> [(name: String, member: Bool, call: Bool)] {
        var found: [(String, Bool, Bool)] = []
        var current = ""
        var previous: Character = " "
        var startsAfterDot = false
        var pending: (String, Bool)?
        for ch in code + " " {
            if ch.isLetter || ch == "_" || (ch.isNumber && !current.isEmpty) {
                if let p = pending { found.append((p.0, p.1, false)); pending = nil }
                if current.isEmpty { startsAfterDot = previous == "." }
                current.append(ch)
            } else {
                if !current.isEmpty { pending = (current, startsAfterDot) }
                current = ""
                if let p = pending, !ch.isWhitespace {
                    found.append((p.0, p.1, ch == "("))
                    pending = nil
                }
            }
            if !ch.isWhitespace { previous = ch }
        }
        if let p = pending { found.append((p.0, p.1, false)) }
        return found
    }

    func upwardReferences() -> [Upward] {
        var owner: [String: Int] = [:]
        var functions: Set<String> = []
        for f in files {
            for (keyword, name) in Self.declarations(f.text) where owner[name] == nil {
                owner[name] = f.layer
                if keyword == "func" { functions.insert(name) }
            }
        }
        var found: [Upward] = []
        for f in files {
            let own = Set(Self.declarations(f.text).map(\.name))
            var seen: Set<String> = []
            for (name, member, call) in Self.identifiers(in: Self.code(of: f.text))
            where !member && !own.contains(name) && (call || !functions.contains(name)) {
                guard let layer = owner[name], layer > f.layer, seen.insert(name).inserted else { continue }
                found.append(Upward(path: f.path, name: name, from: f.layer < 0 ? "root" : order[f.layer], to: order[layer]))
            }
        }
        return found
    }

    /// The layer folders, in order, from the table under "## Layers" in `architectureDoc`.
    static func layerOrder(fromArchitectureDoc doc: String) -> [String] {
        var inLayers = false
        var order: [String] = []
        for line in doc.split(separator: "\n") {
            if line.hasPrefix("## ") { inLayers = line == "## Layers"; continue }
            guard inLayers, line.hasPrefix("| `"), let end = line.dropFirst(3).firstIndex(of: "`") else { continue }
            let folder = line[line.index(line.startIndex, offsetBy: 3)..<end]
            if folder.hasSuffix("/") { order.append(String(folder.dropLast())) }
        }
        return order
    }

    /// Every .swift file under `module`, by the layer of its first folder.
    /// Throws for a folder the order does not list.
    static func load(module: URL, order: [String]) throws -> LayerScan {
        struct Unlisted: Error, CustomStringConvertible { let description: String }
        var files: [File] = []
        let fm = FileManager.default
        guard let walker = fm.enumerator(at: module, includingPropertiesForKeys: nil) else { return LayerScan(order: order, files: []) }
        for case let url as URL in walker where url.pathExtension == "swift" {
            let relative = url.path.dropFirst(module.path.count + 1)
            let parts = relative.split(separator: "/")
            let layer: Int
            if parts.count == 1 {
                layer = -1
            } else if let i = order.firstIndex(of: String(parts[0])) {
                layer = i
            } else {
                throw Unlisted(description: "folder \(parts[0]) of \(relative) is not in the layer table")
            }
            files.append(File(path: String(relative), layer: layer, text: try String(contentsOf: url, encoding: .utf8)))
        }
        return LayerScan(order: order, files: files.sorted { $0.path < $1.path })
    }
}
