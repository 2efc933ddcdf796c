import CNuma
import Foundation
import Glibc

/// The machine a result was measured on.
public struct Machine: Codable, Sendable {
    public var hostname: String
    public var kernel: String
    public var cpusOnline: Int
    /// CPUs this process may run on (its affinity mask).
    public var cpusAllowed: Int
    /// NUMA nodes per libnuma (1 when numa_available() says NUMA is absent).
    public var numaNodes: Int
    public var memoryBytes: UInt64
    public var topology: Topology

    public static func current() -> Machine {
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let node = withUnsafeBytes(of: &u.nodename) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let numaOK = numa_available() >= 0
        return Machine(
            hostname: node,
            kernel: release,
            cpusOnline: sysconf(Int32(_SC_NPROCESSORS_ONLN)),
            cpusAllowed: ProcessInfo.processInfo.activeProcessorCount,
            numaNodes: numaOK ? Int(numa_max_node()) + 1 : 1,
            memoryBytes: ProcessInfo.processInfo.physicalMemory,
            topology: .current())
    }
}
