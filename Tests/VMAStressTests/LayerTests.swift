import Foundation
import Testing
@testable import VMAStress

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func read(_ path: String) throws -> String {
    try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
}

/// The layers of docs/architecture.md hold: no folder of the library uses a
/// layer listed after it, and the docs list what the registry holds.
@Suite("Layers and docs follow the code")
struct LayerTests {
    @Test func noLayerUsesOneAboveIt() throws {
        let order = LayerScan.layerOrder(fromArchitectureDoc: try read("docs/architecture.md"))
        #expect(order.first == "Sync" && order.count >= 10, "layer table: \(order)")
        let scan = try LayerScan.load(module: root.appendingPathComponent("Sources/VMAStress"), order: order)
        #expect(scan.files.count > 50)
        #expect(scan.upwardReferences().isEmpty, "\(scan.upwardReferences().map(\.description).joined(separator: "\n"))")
    }

    @Test func theScanCatchesAnUpwardReferenceAndOnlyCode() {
        let order = ["Low", "High"]
        let files = [
            LayerScan.File(path: "High/Top.swift", layer: 1, text: "public struct Top {}\npublic func topLevel() {}\n"),
            LayerScan.File(path: "Low/Clean.swift", layer: 0, text: """
                // Top is mentioned in a comment
                /* and Top in a block comment */
                struct Clean { let s = "Top in a string"; func f(x: Clean) { x.Top() } }
                """),
            LayerScan.File(path: "Low/Field.swift", layer: 0, text: "struct Field { var t: [Top] }\n"),
            LayerScan.File(path: "Low/Interpolated.swift", layer: 0, text: "let s = \"value \\(topLevel())\"\n"),
        ]
        let found = LayerScan(order: order, files: files).upwardReferences()
        #expect(found == [
            LayerScan.Upward(path: "Low/Field.swift", name: "Top", from: "Low", to: "High"),
            LayerScan.Upward(path: "Low/Interpolated.swift", name: "topLevel", from: "Low", to: "High"),
        ])
    }

    @Test func everyFolderIsInTheLayerTable() throws {
        let order = LayerScan.layerOrder(fromArchitectureDoc: try read("docs/architecture.md"))
        let folders = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Sources/VMAStress").path)
            .filter { !$0.hasSuffix(".swift") }
        #expect(Set(folders) == Set(order))
    }

    @Test func strategiesDocDescribesEveryStrategyAndTwin() throws {
        let doc = try read("docs/strategies.md")
        for e in StrategyRegistry.correct {
            #expect(doc.contains("## `\(e.info.name)`"), "docs/strategies.md has no section for \(e.info.name)")
        }
        for e in StrategyRegistry.busted {
            let row = doc.split(separator: "\n").first { $0.hasPrefix("| `\(e.info.name)` |") }
            let cells = row.map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
            #expect(cells.count >= 4 && cells[1] == e.info.base && cells[3] == e.info.breaks?.rawValue,
                    "docs/strategies.md's twin table for \(e.info.name): \(cells)")
        }
    }

    @Test func stepTableHasAColumnPerLocklessStrategy() throws {
        let doc = try read("docs/strategies.md")
        let header = doc.split(separator: "\n").first { $0.hasPrefix("| step | what it is |") }
        let columns = header.map { $0.split(separator: "|").dropFirst(2).map { $0.trimmingCharacters(in: .whitespaces) } }
        #expect(columns == StrategyRegistry.correct.filter(\.isLockless).map(\.info.name))
    }

    @Test func readmeListsEveryWorkload() throws {
        let readme = try read("README.md")
        for w in Workload.allCases {
            #expect(readme.contains("| `\(w.rawValue)`"), "README's workload table has no row for \(w.rawValue)")
        }
    }

    @Test func everyInvariantIsBrokenByATwin() {
        for inv in Invariant.allCases {
            #expect(StrategyRegistry.busted.contains { $0.info.breaks == inv }, "no busted twin breaks \(inv.rawValue)")
        }
    }
}
