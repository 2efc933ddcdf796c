import ArgumentParser
import VMAStress

struct StrategiesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strategies",
        abstract: "List the strategies, with a one-line description each.")

    @Flag(help: "Also list the busted twins and the invariant each one breaks.")
    var busted = false

    func run() throws {
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
