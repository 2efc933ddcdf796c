import CNuma
import CSupport
import Foundation

/// The CPUs the calling thread may run on (its affinity mask).
public func allowedCPUsOfThisThread() -> [Int] {
    var cpus = [Int32](repeating: 0, count: 1024)
    let n = vms_get_affinity(&cpus, 1024)
    return n > 0 ? cpus.prefix(Int(n)).map(Int.init) : [0]
}

/// The machine's NUMA topology: nodes, their CPUs, memory and distances,
/// and the CPUs this process may use. Read from sysfs
/// (`/sys/devices/system/node`) and cross-checked with libnuma; recorded in
/// every results file.
public struct Topology: Codable, Sendable, Equatable {
    public struct Node: Codable, Sendable, Equatable {
        public var id: Int
        public var cpus: [Int]
        public var memoryBytes: UInt64
        /// Distance to each node, in the order of `Topology.nodes`.
        public var distances: [Int]

        public init(id: Int, cpus: [Int], memoryBytes: UInt64, distances: [Int]) {
            self.id = id
            self.cpus = cpus
            self.memoryBytes = memoryBytes
            self.distances = distances
        }
    }

    public var nodes: [Node]
    /// The CPUs this process's affinity mask allows.
    public var allowedCPUs: [Int]
    /// numa_available() said NUMA calls work.
    public var numaAvailable: Bool
    /// Where the description came from.
    public var source: String

    public init(nodes: [Node], allowedCPUs: [Int], numaAvailable: Bool, source: String) {
        self.nodes = nodes
        self.allowedCPUs = allowedCPUs
        self.numaAvailable = numaAvailable
        self.source = source
    }

    public func node(_ id: Int) -> Node? { nodes.first { $0.id == id } }
    public func nodeOf(cpu: Int) -> Int? { nodes.first { $0.cpus.contains(cpu) }?.id }
    public var nodeIDs: String { CPUList.format(nodes.map(\.id)) }

    /// This machine, now.
    public static func current() -> Topology {
        let allowed = allowedCPUsOfThisThread()
        let numaOK = numa_available() >= 0
        if var t = read(sysfsNodeDirectory: "/sys/devices/system/node", allowedCPUs: allowed, numaAvailable: numaOK) {
            // libnuma's view of the memory wins where it has one.
            if numaOK {
                for i in t.nodes.indices {
                    var free: Int64 = 0
                    let size = numa_node_size64(Int32(t.nodes[i].id), &free)
                    if size > 0 { t.nodes[i].memoryBytes = UInt64(size) }
                }
                t.source = "sysfs+libnuma"
            }
            return t
        }
        let online = (try? CPUList.parse(readFile("/sys/devices/system/cpu/online") ?? "")) ?? allowed
        return Topology(nodes: [Node(id: 0, cpus: online, memoryBytes: ProcessInfo.processInfo.physicalMemory, distances: [10])],
                        allowedCPUs: allowed, numaAvailable: numaOK, source: "fallback (no NUMA information)")
    }

    /// Reads `nodeN/cpulist`, `nodeN/distance` and `nodeN/meminfo` under `dir`; nil when there is no node.
    public static func read(sysfsNodeDirectory dir: String, allowedCPUs: [Int], numaAvailable: Bool) -> Topology? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return nil }
        let ids = entries.compactMap { $0.hasPrefix("node") ? Int($0.dropFirst(4)) : nil }.sorted()
        guard !ids.isEmpty else { return nil }
        let nodes = ids.map { id -> Node in
            let base = "\(dir)/node\(id)"
            let cpus = (try? CPUList.parse(readFile("\(base)/cpulist") ?? "")) ?? []
            let distances = (readFile("\(base)/distance") ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" })
                .compactMap { Int($0) }
            return Node(id: id, cpus: cpus, memoryBytes: memTotal(readFile("\(base)/meminfo") ?? ""), distances: distances)
        }
        return Topology(nodes: nodes, allowedCPUs: allowedCPUs, numaAvailable: numaAvailable, source: "sysfs")
    }

    /// `Node 0 MemTotal:  4810964 kB` in bytes.
    static func memTotal(_ meminfo: String) -> UInt64 {
        for line in meminfo.split(separator: "\n") where line.contains("MemTotal:") {
            let words = line.split(separator: " ")
            if let i = words.firstIndex(of: "MemTotal:"), i + 1 < words.count, let kb = UInt64(words[i + 1]) {
                return kb * 1024
            }
        }
        return 0
    }

    static func readFile(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }
}
