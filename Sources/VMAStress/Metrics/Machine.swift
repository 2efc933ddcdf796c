import Foundation
import Glibc

/// The machine a result was measured on.
public struct Machine: Codable, Sendable {
    public var hostname: String
    public var kernel: String
    public var cpusOnline: Int
    /// CPUs this process may run on (its affinity mask).
    public var cpusAllowed: Int
    /// NUMA nodes in `topology` (1 when the machine describes none).
    public var numaNodes: Int
    public var memoryBytes: UInt64
    public var topology: Topology

    public static func current() -> Machine {
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let node = withUnsafeBytes(of: &u.nodename) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let topology = Topology.current()
        return Machine(
            hostname: node,
            kernel: release,
            cpusOnline: sysconf(Int32(_SC_NPROCESSORS_ONLN)),
            cpusAllowed: topology.allowedCPUs.count,
            numaNodes: topology.nodes.count,
            memoryBytes: ProcessInfo.processInfo.physicalMemory,
            topology: topology)
    }
}
