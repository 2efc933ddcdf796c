import Foundation
import Testing
@testable import VMAStress

/// The placement logic over described topologies, and the real machine's affinity.
@Suite("NUMA and CPU placement")
struct PlacementTests {
    static let twoNodes = Topology(
        nodes: [.init(id: 0, cpus: [0, 1, 2, 3], memoryBytes: 8 << 30, distances: [10, 21]),
                .init(id: 1, cpus: [4, 5, 6, 7], memoryBytes: 8 << 30, distances: [21, 10])],
        allowedCPUs: Array(0...7), numaAvailable: true, source: "described")

    static let fourNodes = Topology(
        nodes: [.init(id: 0, cpus: [0, 1], memoryBytes: 4 << 30, distances: [10, 16, 22, 22]),
                .init(id: 1, cpus: [2, 3], memoryBytes: 4 << 30, distances: [16, 10, 22, 22]),
                .init(id: 2, cpus: [4, 5], memoryBytes: 4 << 30, distances: [22, 22, 10, 16]),
                .init(id: 3, cpus: [6, 7], memoryBytes: 4 << 30, distances: [22, 22, 16, 10])],
        allowedCPUs: Array(0...7), numaAvailable: true, source: "described")

    /// Node 2 is memory only (CXL-style): no CPUs.
    static let memoryOnly = Topology(
        nodes: [.init(id: 0, cpus: [0, 1], memoryBytes: 4 << 30, distances: [10, 21, 30]),
                .init(id: 1, cpus: [2, 3], memoryBytes: 4 << 30, distances: [21, 10, 30]),
                .init(id: 2, cpus: [], memoryBytes: 16 << 30, distances: [30, 30, 10])],
        allowedCPUs: Array(0...3), numaAvailable: true, source: "described")

    func request(_ edit: (inout PlacementRequest) -> Void) -> PlacementRequest {
        var r = PlacementRequest()
        edit(&r)
        return r
    }

    @Test func readersOnOneNodeWritersOnAnother() throws {
        let plan = try Placement.plan(request { $0.faultersNode = 0; $0.mutatorsNode = 1 },
                                      topology: Self.twoNodes, faulters: 2, mutators: 1)
        #expect(plan.faulters == [[0, 1, 2, 3], [0, 1, 2, 3]])
        #expect(plan.mutators == [[4, 5, 6, 7]])
        #expect(plan.checker == nil && plan.memory == .system)
    }

    @Test func noRequestLeavesAffinityAlone() throws {
        let plan = try Placement.plan(PlacementRequest(), topology: Self.twoNodes, faulters: 2, mutators: 2)
        #expect(plan.faulters == [nil, nil] && plan.mutators == [nil, nil])
    }

    @Test func compactFillsANodeFirstAndScatterAlternates() throws {
        let compact = try Placement.plan(request { $0.pin = .compact }, topology: Self.fourNodes, faulters: 3, mutators: 2)
        #expect(compact.faulters == [[0], [1], [2]])
        #expect(compact.mutators == [[3], [4]], "mutators take CPUs no faulter holds")
        let scatter = try Placement.plan(request { $0.pin = .scatter }, topology: Self.fourNodes, faulters: 5, mutators: 0)
        #expect(scatter.faulters == [[0], [2], [4], [6], [1]])
    }

    @Test func cpusRestrictEveryRoleAndNodesIntersectWithThem() throws {
        let plan = try Placement.plan(request { $0.cpus = [1, 2, 5]; $0.faultersNode = 0; $0.pin = .compact },
                                      topology: Self.twoNodes, faulters: 3, mutators: 1)
        #expect(plan.faulters == [[1], [2], [1]], "two CPUs for three faulters: the third wraps")
        #expect(plan.mutators == [[5]], "the mutator takes the CPU no faulter holds")
        #expect(throws: PlacementError.self) {
            try Placement.plan(request { $0.cpus = [4, 5]; $0.faultersNode = 0 }, topology: Self.twoNodes,
                               faulters: 1, mutators: 0)
        }
    }

    @Test func memoryGoesWhereAsked() throws {
        let onMemoryOnly = try Placement.plan(request { $0.memory = .node(2); $0.faultersNode = 0; $0.mutatorsNode = 1 },
                                              topology: Self.memoryOnly, faulters: 1, mutators: 1)
        #expect(onMemoryOnly.memory == .node(2))
        #expect(try Placement.plan(request { $0.memory = .interleave }, topology: Self.fourNodes,
                                   faulters: 1, mutators: 0).memory == .interleave)
    }

    static let impossible: [(String, String)] = [
        ("faulters on an absent node", "no such NUMA node"),
        ("mutators on a memory-only node", "memory but no CPUs"),
        ("memory on an absent node", "no such NUMA node"),
        ("a CPU outside the mask", "CPU 12 is not available"),
        ("the checker outside the mask", "--checker-cpu 40"),
    ]

    @Test(arguments: impossible)
    func impossibleRequestsAreRejectedBeforeAnythingRuns(_ what: String, _ message: String) {
        var r = PlacementRequest()
        switch what {
        case "faulters on an absent node": r.faultersNode = 7
        case "mutators on a memory-only node": r.mutatorsNode = 2
        case "memory on an absent node": r.memory = .node(9)
        case "a CPU outside the mask": r.cpus = [0, 12]
        default: r.checkerCPU = 40
        }
        do {
            _ = try Placement.plan(r, topology: Self.memoryOnly, faulters: 1, mutators: 1)
            Issue.record("\(what) was accepted")
        } catch {
            #expect("\(error)".contains(message), "\(what): \(error)")
        }
    }

    @Test func sysfsIsParsed() throws {
        let root = temporaryPath("sysfs-node")
        try? FileManager.default.removeItem(atPath: root)
        for (id, cpus, kb, dist) in [(0, "0-1,4", 1024, "10 20"), (1, "", 2048, "20 10")] {
            let dir = "\(root)/node\(id)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try "\(cpus)\n".write(toFile: "\(dir)/cpulist", atomically: true, encoding: .utf8)
            try "\(dist)\n".write(toFile: "\(dir)/distance", atomically: true, encoding: .utf8)
            try "Node \(id) MemTotal:       \(kb) kB\nNode \(id) MemFree: 1 kB\n".write(
                toFile: "\(dir)/meminfo", atomically: true, encoding: .utf8)
        }
        try "x".write(toFile: "\(root)/possible", atomically: true, encoding: .utf8)
        let t = try #require(Topology.read(sysfsNodeDirectory: root, allowedCPUs: [0, 1], numaAvailable: true))
        #expect(t.nodes.map(\.id) == [0, 1])
        #expect(t.nodes[0].cpus == [0, 1, 4] && t.nodes[1].cpus == [])
        #expect(t.nodes[1].memoryBytes == 2048 * 1024)
        #expect(t.nodes[0].distances == [10, 20])
        #expect(t.nodeOf(cpu: 4) == 0)
        #expect(try CPUList.parse("0-2,7") == [0, 1, 2, 7])
        #expect(CPUList.format([0, 1, 2, 7, 9, 10]) == "0-2,7,9-10")
        #expect(throws: CPUList.Invalid.self) { try CPUList.parse("3-1") }
    }

    /// On this machine: every faulter runs where it was pinned, and the store's pages are on the node asked for.
    @Test func pinnedFaultersRunOnlyWhereTheyWerePut() throws {
        let topology = Topology.current()
        let cpu = topology.allowedCPUs.last!
        let node = topology.nodeOf(cpu: cpu) ?? 0
        var config = RunConfig(strategy: "mmap-lock", faulters: 2, mutators: 1, durationSeconds: 0.5,
                               warmupSeconds: 0, seed: 3, checkpointIntervalSeconds: 0.2)
        config.placement.faultersNode = node
        config.placement.cpus = [cpu]
        config.placement.pin = .compact
        config.placement.memory = .node(node)
        try config.validate()
        let r = try Runner.run(config)
        #expect(r.verdict == .success)
        let p = try #require(r.placement)
        let faulters = p.threads.filter { $0.thread.hasPrefix("faulter") }
        #expect(faulters.count == 2)
        for t in faulters {
            #expect(t.planned == "\(cpu)" && t.affinity == "\(cpu)" && t.ranOn == "\(cpu)", "\(t)")
        }
        let records = try #require(p.memory.first { $0.region == "vma-records" })
        #expect(records.pages["node \(node)", default: 0] > 0, "\(records)")
        #expect(records.pages.keys.allSatisfy { $0 == "node \(node)" || $0 == "absent" }, "\(records)")
        #expect(r.reproduce.contains("--faulters-node \(node)") && r.reproduce.contains("--pin compact"))
    }
}
