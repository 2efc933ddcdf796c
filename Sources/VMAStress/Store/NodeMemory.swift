import CNuma
import Glibc

/// Where the store's memory (VMA records, index, page tables) lives.
public enum MemoryPolicy: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The system allocator; the kernel's default policy (first touch).
    case system
    /// Bound to one node (numa_alloc_onnode).
    case node(Int)
    /// The allocating thread's node (numa_alloc_local).
    case local
    /// Interleaved over every node (numa_alloc_interleaved).
    case interleave

    public struct Invalid: Error, CustomStringConvertible {
        public let text: String
        public var description: String { "invalid --mem-node '\(text)': a node number, local or interleave" }
    }

    public init(parsing text: String) throws {
        switch text {
        case "local": self = .local
        case "interleave": self = .interleave
        case "system": self = .system
        default:
            guard let n = Int(text), n >= 0 else {
                throw Invalid(text: text)
            }
            self = .node(n)
        }
    }

    public var description: String {
        switch self {
        case .system: return "system"
        case let .node(n): return "\(n)"
        case .local: return "local"
        case .interleave: return "interleave"
        }
    }
}

/// Allocates the store's memory under a `MemoryPolicy`: the system
/// allocator, or libnuma (page-aligned mmap with the policy applied before
/// any page is touched). Callers free with the same policy and size.
public enum NodeMemory {
    /// From this size the system policy maps pages of its own (page-aligned;
    /// first touch still places them), and unmaps them at free: the heap
    /// would keep them resident, in arenas fragmented by the mms a run makes
    /// and destroys.
    static let mapThreshold = 128 * 1024

    public static func allocate(bytes: Int, alignment: Int = 64, policy: MemoryPolicy) -> UnsafeMutableRawPointer {
        let p: UnsafeMutableRawPointer?
        switch policy {
        case .system where bytes >= mapThreshold:
            let q = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            p = q == MAP_FAILED ? nil : q
        case .system:
            var q: UnsafeMutableRawPointer?
            p = posix_memalign(&q, max(alignment, MemoryLayout<Int>.size), max(bytes, 1)) == 0 ? q : nil
        case let .node(n): p = numa_alloc_onnode(bytes, Int32(n))
        case .local: p = numa_alloc_local(bytes)
        case .interleave: p = numa_alloc_interleaved(bytes)
        }
        guard let p else { outOfMemory(bytes) }
        return p
    }

    public static func free(_ p: UnsafeMutableRawPointer, bytes: Int, policy: MemoryPolicy) {
        switch policy {
        case .system where bytes >= mapThreshold: munmap(p, bytes)
        case .system: Glibc.free(p)
        default: numa_free(p, bytes)
        }
    }

    /// The store cannot be built: one line and exit 3 (a runtime error), not a crash with a backtrace.
    static func outOfMemory(_ bytes: Int) -> Never {
        Console.error("vmastress: error: out of memory: cannot allocate \(bytes / 1024) KiB for the model address space "
            + "(an address-space or cgroup limit?); try fewer --churn-pages or threads")
        exit(3)
    }

    /// Where `count` sampled pages of `[start, start + bytes)` actually live
    /// (move_pages(2) in query mode): node id to pages, "absent" for pages not
    /// yet touched.
    public static func residency(of start: UnsafeRawPointer, bytes: Int, samples: Int = 32) -> [String: Int] {
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = Int(bitPattern: start) / pageSize * pageSize
        let pages = max((Int(bitPattern: start) + bytes - first + pageSize - 1) / pageSize, 1)
        let step = max(pages / samples, 1)
        var addrs: [UnsafeMutableRawPointer?] = stride(from: 0, to: pages, by: step).map {
            UnsafeMutableRawPointer(bitPattern: first + $0 * pageSize)
        }
        var status = [Int32](repeating: 0, count: addrs.count)
        let rc = numa_move_pages(0, UInt(addrs.count), &addrs, nil, &status, 0)
        guard rc == 0 else { return ["unknown": addrs.count] }
        var out: [String: Int] = [:]
        for s in status { out[s >= 0 ? "node \(s)" : s == -ENOENT ? "absent" : "error \(-s)", default: 0] += 1 }
        return out
    }
}

/// Sampled pages of one region of the store, by the node they live on.
public struct MemoryResidency: Codable, Sendable, Equatable {
    public var region: String
    public var bytes: Int
    /// "node N" (or "absent", not yet touched) to sampled pages.
    public var pages: [String: Int]
}
