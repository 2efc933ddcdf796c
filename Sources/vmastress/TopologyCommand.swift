import ArgumentParser
import VMAStress

struct TopologyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Show the NUMA nodes, their CPUs, memory and distances, and the CPUs this process may use.")

    @Option(help: "Also write the topology as JSON to this file (atomically).")
    var json: String?

    func validate() throws {
        if ParsePass.skipsChecks { return }
        try usageChecks { if let json { try AtomicFile.checkWritable(json) } }
    }

    func run() throws {
        let t = Topology.current()
        Console.out(TextReport.topology(t))
        try writeResults(t, to: json)
    }
}
