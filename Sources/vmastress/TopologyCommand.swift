import ArgumentParser
import VMAStress

struct TopologyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Show the NUMA nodes, their CPUs, memory and distances, and the CPUs this process may use.")

    @Option(help: "Also write the topology as JSON to this file (atomically).")
    var json: String?

    func validate() throws {
        if let json {
            do { try AtomicFile.checkWritable(json) } catch { throw ValidationError("\(error)") }
        }
    }

    func run() throws {
        let t = Topology.current()
        print(TextReport.topology(t))
        if let json {
            do { try AtomicFile.writeJSON(t, to: json) } catch {
                throw Exit(status: ExitStatus.runtime, message: "\(error)")
            }
        }
    }
}
