import ArgumentParser
import VMAStress

struct StrategiesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strategies",
        abstract: "List the strategies, with a one-line description each.")

    @Flag(help: "Also list the busted twins and the invariant each one breaks.")
    var busted = false

    func run() throws {
        let rows = StrategyRegistry.correct.map { [$0.info.name, $0.info.summary, $0.info.origin] }
        print(TextReport.table(header: ["strategy", "what it does", "origin"], rows: rows, leftColumns: 3))
        if busted {
            print("")
            let twins = StrategyRegistry.busted.map { t in
                [t.info.name, t.info.breaks!.rawValue, t.info.base ?? "-", t.info.summary]
            }
            print(TextReport.table(header: ["busted twin", "breaks", "twin of", "the bug"], rows: twins, leftColumns: 4))
        }
    }
}
