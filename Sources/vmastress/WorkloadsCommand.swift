import ArgumentParser
import VMAStress

struct WorkloadsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workloads",
        abstract: "List the workload presets and the --mix settings.")

    func run() throws {
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
