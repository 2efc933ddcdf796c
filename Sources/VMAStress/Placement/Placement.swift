/// How threads are placed inside the CPUs their role may use.
public enum PinPolicy: String, Codable, CaseIterable, Sendable {
    /// Each thread may use every CPU of its role (the scheduler places it).
    case none
    /// Thread i on one CPU, filling a node's CPUs before the next node's.
    case compact
    /// Thread i on one CPU, taking nodes in turn.
    case scatter
}

public struct PlacementError: Error, CustomStringConvertible {
    public let description: String
}

/// What the user asked for: the placement options of `vmastress run`.
public struct PlacementRequest: Codable, Sendable, Equatable {
    public var cpus: [Int]?
    public var faultersNode: Int?
    public var mutatorsNode: Int?
    public var checkerCPU: Int?
    public var pin: PinPolicy = .none
    public var memory: MemoryPolicy = .system

    public init() {}

    public var isDefault: Bool { self == PlacementRequest() }

    /// Some thread gets CPUs of its own (memory policy aside).
    public var pinsThreads: Bool {
        cpus != nil || faultersNode != nil || mutatorsNode != nil || checkerCPU != nil || pin != .none
    }

    /// The options that repeat this request.
    public var commandLineWords: [String] {
        var w: [String] = []
        if let cpus { w.append("--cpus \(CPUList.format(cpus))") }
        if let faultersNode { w.append("--faulters-node \(faultersNode)") }
        if let mutatorsNode { w.append("--mutators-node \(mutatorsNode)") }
        if let checkerCPU { w.append("--checker-cpu \(checkerCPU)") }
        if pin != .none { w.append("--pin \(pin.rawValue)") }
        if memory != .system { w.append("--mem-node \(memory)") }
        return w
    }
}

/// Which CPUs each thread may use (nil: leave its affinity alone), and the memory policy.
public struct PlacementPlan: Codable, Sendable, Equatable {
    public var faulters: [[Int]?]
    public var mutators: [[Int]?]
    public var checker: [Int]?
    public var memory: MemoryPolicy
}

public enum Placement {
    /// Checks `request` against `topology` (every node and CPU must exist and
    /// be usable) and assigns CPUs to threads. Throws a one-line error
    /// before anything runs: on this machine numa_alloc_onnode on an absent
    /// node still returns memory, so nothing later would notice.
    public static func plan(_ request: PlacementRequest, topology: Topology, faulters: Int, mutators: Int) throws -> PlacementPlan {
        let allowed = Set(topology.allowedCPUs)
        let allowedText = CPUList.format(topology.allowedCPUs)
        if let cpus = request.cpus {
            guard !cpus.isEmpty else { throw PlacementError(description: "--cpus is empty") }
            for c in cpus where !allowed.contains(c) {
                throw PlacementError(description: "CPU \(c) is not available to this process (CPUs \(allowedText))")
            }
        }
        let base = request.cpus ?? topology.allowedCPUs

        func pool(_ node: Int?, _ option: String) throws -> [Int] {
            guard let node else { return base }
            guard let n = topology.node(node) else {
                throw PlacementError(description: "\(option) \(node): no such NUMA node (nodes \(topology.nodeIDs))")
            }
            guard !n.cpus.isEmpty else {
                throw PlacementError(description: "\(option) \(node): NUMA node \(node) has memory but no CPUs")
            }
            let p = n.cpus.filter { base.contains($0) }
            guard !p.isEmpty else {
                throw PlacementError(description: "\(option) \(node): none of node \(node)'s CPUs (\(CPUList.format(n.cpus))) is usable here (CPUs \(CPUList.format(base)))")
            }
            return p
        }

        let faulterPool = try pool(request.faultersNode, "--faulters-node")
        let mutatorPool = try pool(request.mutatorsNode, "--mutators-node")
        let restricted = request.cpus != nil || request.faultersNode != nil || request.mutatorsNode != nil

        // compact and scatter: each thread takes the first CPU in its order that no earlier
        // thread holds (faulters first), and wraps around only when all are taken.
        var taken = Set<Int>()
        func assign(_ pool: [Int], count: Int) -> [[Int]?] {
            switch request.pin {
            case .none:
                return Array(repeating: restricted ? pool : nil, count: count)
            case .compact, .scatter:
                let order = request.pin == .compact ? compactOrder(pool, topology) : scatterOrder(pool, topology)
                return (0..<count).map { i in
                    let cpu = order.first { !taken.contains($0) } ?? order[i % order.count]
                    taken.insert(cpu)
                    return [cpu]
                }
            }
        }

        var checker: [Int]? = nil
        if let c = request.checkerCPU {
            guard allowed.contains(c) else {
                throw PlacementError(description: "--checker-cpu \(c): CPU \(c) is not available to this process (CPUs \(allowedText))")
            }
            checker = [c]
        }

        if case let .node(n) = request.memory {
            guard let node = topology.node(n) else {
                throw PlacementError(description: "--mem-node \(n): no such NUMA node (nodes \(topology.nodeIDs))")
            }
            guard node.memoryBytes > 0 else {
                throw PlacementError(description: "--mem-node \(n): NUMA node \(n) has no memory")
            }
        }
        let faulterCPUs = assign(faulterPool, count: faulters)
        return PlacementPlan(faulters: faulterCPUs, mutators: assign(mutatorPool, count: mutators),
                             checker: checker, memory: request.memory)
    }

    /// Node by node, CPUs ascending.
    static func compactOrder(_ pool: [Int], _ t: Topology) -> [Int] {
        pool.sorted { (t.nodeOf(cpu: $0) ?? 0, $0) < (t.nodeOf(cpu: $1) ?? 0, $1) }
    }

    /// One CPU from each node in turn.
    static func scatterOrder(_ pool: [Int], _ t: Topology) -> [Int] {
        let byNode = Dictionary(grouping: pool) { t.nodeOf(cpu: $0) ?? 0 }
        let columns = byNode.keys.sorted().map { byNode[$0]!.sorted() }
        var order: [Int] = []
        for row in 0..<(columns.map(\.count).max() ?? 0) {
            for col in columns where row < col.count { order.append(col[row]) }
        }
        return order
    }
}
