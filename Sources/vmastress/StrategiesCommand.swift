import ArgumentParser
import VMAStress

struct StrategiesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strategies",
        abstract: "List the strategies, with a one-line description each.")

    @Flag(help: "Also list the busted twins and the invariant each one breaks.")
    var busted = false

    @Flag(help: "One line per strategy, twins included, for scripts: its name, 'correct' or 'busted', the invariant a twin breaks (- for a correct one), then the run options it needs (a twin's race, a one-thread strategy's single worker).")
    var plain = false

    @Flag(help: "Every strategy, twins included, as a JSON array: name, correct, summary, origin, indexes, rcuFlavors, capabilities, maxWorkers, breaks, twinOf and the run options it needs.")
    var json = false

    func validate() throws {
        if plain && json { throw ValidationError("--plain and --json are two formats of one listing: give one") }
    }

    func run() throws {
        if json { return try Listings.print(Listings.strategies) }
        if plain {
            for e in StrategyRegistry.all {
                Console.out(([e.info.name, e.info.isBusted ? "busted" : "correct", e.info.breaks?.rawValue ?? "-"] + Listings.needs(e))
                    .joined(separator: " "))
            }
            return
        }
        let rows = StrategyRegistry.correct.map { e in
            [e.info.name, e.info.indexes.map(\.rawValue).joined(separator: ","), e.info.usesRCU ? "yes" : "-",
             e.info.summary, e.info.origin]
        }
        Console.out(TextReport.table(header: ["strategy", "--index", "--rcu-flavor", "what it does", "origin"],
                               rows: rows, leftColumns: 5))
        Console.out("\n--index: the trees a strategy is correct on, its default first; --rcu-flavor: its readers use liburcu. docs/strategies.md has each protocol.")
        if busted {
            Console.out("")
            let twins = StrategyRegistry.busted.map { t in
                [t.info.name, t.info.breaks!.rawValue, t.info.base ?? "-", t.info.summary, t.info.origin,
                 t.info.caughtWith?.words.joined(separator: " ") ?? "-"]
            }
            Console.out(TextReport.table(header: ["busted twin", "breaks", "twin of", "the bug", "origin", "its race needs"],
                                         rows: twins, leftColumns: 6))
        }
    }
}
