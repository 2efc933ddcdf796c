import ArgumentParser
import VMAStress

struct InvariantsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invariants",
        abstract: "List the invariants the checker enforces: what each means, where it is detected, what a report shows, and the busted twins that break it.")

    @Flag(help: "As a JSON array: id, meaning, detectedBy, evidence and the twins that break it (brokenBy).")
    var json = false

    func run() throws {
        if json { return try Listings.print(Listings.invariants) }
        for inv in Invariant.allCases {
            let e = inv.entry
            let twins = StrategyRegistry.busted.filter { $0.info.breaks == inv }.map(\.info.name)
            Console.out("\(inv.rawValue): \(e.meaning)")
            Console.out("  detected: \(e.detectedBy)")
            Console.out("  evidence: \(e.evidence)")
            Console.out("  broken by: \(twins.isEmpty ? "-" : twins.joined(separator: ", "))")
        }
    }
}
