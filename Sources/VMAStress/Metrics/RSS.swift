import CSupport
import Glibc
import Synchronization

/// The process's resident set size, from /proc/self/statm.
public enum RSS {
    public static func currentKiB() -> Int {
        let fd = open("/proc/self/statm", O_RDONLY)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 128)
        let n = read(fd, &buf, buf.count - 1)
        guard n > 0 else { return 0 }
        let fields = String(decoding: buf.prefix(n), as: UTF8.self).split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
    }

    /// Returns free heap memory to the system first, so what is left is what is held.
    public static func settledKiB() -> Int {
        _ = vms_malloc_trim()
        return currentKiB()
    }
}

/// Samples RSS once a second on its own thread while a soak runs.
public final class RSSSampler: @unchecked Sendable {
    private let stopFlag = Atomic<Bool>(false)
    private let started = Clock.nanos()
    private let taken = Mutex<[RSSSample]>([])
    private var thread: OSThread?

    public init() {}

    public func start() throws {
        thread = try OSThread.spawn(name: "rss-sampler") { [self] in
            repeat {
                add(RSS.currentKiB())
            } while Clock.sleep(until: Clock.nanos() + 1_000_000_000, unless: { stopFlag.load(ordering: .relaxed) })
        }
    }

    public func stop() {
        stopFlag.store(true, ordering: .relaxed)
        thread?.join()
        thread = nil
    }

    func add(_ kib: Int) {
        let s = RSSSample(atSeconds: Double(Clock.nanos() - started) / 1e9, kib: kib)
        taken.withLock { $0.append(s) }
    }

    public var samples: [RSSSample] { taken.withLock { $0 } }
}

public struct RSSSample: Codable, Sendable, Equatable {
    public var atSeconds: Double
    public var kib: Int
}

/// Sustained RSS growth over a soak. The judge looks at RSS measured after
/// each phase has torn down (free heap trimmed), skipping the first
/// `warmupPhases` while arenas and caches fill. It splits the rest into
/// thirds and calls it growth when the thirds' medians climb, each by at
/// least a quarter of the whole rise, and the last exceeds the first by
/// more than `limitKiB`: a leak climbs steadily; a cache that fills once,
/// or one big phase that leaves the allocator's arenas larger, is one step.
public struct RSSVerdict: Codable, Sendable, Equatable {
    public var judged: Bool
    public var growing: Bool
    public var firstThirdMedianKiB: Int
    public var lastThirdMedianKiB: Int
    public var limitKiB: Int
    public var reason: String

    public static func judge(afterPhasesKiB: [Int], warmupPhases: Int, limitKiB: Int) -> RSSVerdict {
        let rest = Array(afterPhasesKiB.dropFirst(warmupPhases))
        guard rest.count >= 6 else {
            return RSSVerdict(judged: false, growing: false, firstThirdMedianKiB: 0, lastThirdMedianKiB: 0, limitKiB: limitKiB,
                              reason: "\(rest.count) phase(s) after the \(warmupPhases) warm-up phase(s): 6 are needed to judge growth")
        }
        let third = rest.count / 3
        let medians = [rest.prefix(third), rest.dropFirst(third).prefix(rest.count - 2 * third), rest.suffix(third)]
            .map { w -> Int in let s = w.sorted(); return s[s.count / 2] }
        let growth = medians[2] - medians[0]
        let rising = growth > 0 && (medians[1] - medians[0]) * 4 >= growth && (medians[2] - medians[1]) * 4 >= growth
        let growing = rising && growth > limitKiB
        return RSSVerdict(
            judged: true, growing: growing, firstThirdMedianKiB: medians[0], lastThirdMedianKiB: medians[2], limitKiB: limitKiB,
            reason: growing
                ? "RSS after phases climbed third by third: medians \(medians.map { "\($0 / 1024) MiB" }.joined(separator: ", ")), \(growth / 1024) MiB over the limit of \(limitKiB / 1024) MiB"
                : "no sustained growth\(growth > limitKiB ? " (one step, not a climb)" : ""): medians by third \(medians.map { "\($0 / 1024) MiB" }.joined(separator: ", "))")
    }
}
