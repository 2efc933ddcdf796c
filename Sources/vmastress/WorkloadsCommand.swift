import ArgumentParser
import VMAStress

struct WorkloadsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workloads",
        abstract: "List the workload presets and the --mix settings.")

    @Flag(help: "As JSON: each preset (name, summary, defaultMutators, counts, and its mix, every key) and the --mix keys (key, meaning, maximum).")
    var json = false

    func run() throws {
        if json { return try Listings.print(Listings.workloads) }
        Console.out(TextReport.table(
            header: ["workload", "mutators", "ops/s counts", "what it does"],
            rows: Workload.allCases.map { [$0.rawValue, "\($0.defaultMutators)", $0.spec.counted.rawValue, $0.summary] }, leftColumns: 4))
        let base = OpMix()
        Console.out("\n--mix key=value,... adjusts the preset:")
        Console.out(TextReport.table(
            header: ["key", "stress", "meaning"],
            rows: OpMix.specKeys.map { [$0.key, "\(base[keyPath: $0.path])", $0.help] }, leftColumns: 3))
    }
}
