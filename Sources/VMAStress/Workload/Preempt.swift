import CSupport

/// `--preempt`: preemption injected into the worker threads without outside
/// load (CShims/CSupport/preempt.c). A timer on each worker stops it after a
/// random stretch of time, wherever it is, and holds
/// it there: a spin of 2-30 µs (its half-done state stays visible to the other
/// CPU), a yield, or a sleep of 20-200 µs (its CPU goes to another thread). On
/// an idle machine workers block often but are rarely preempted, so a window a
/// few instructions long between two steps of one thread is almost never open
/// when another thread looks; delay points open only the windows they name.
public enum Preempt: Equatable, Sendable, CodableAsText {
    /// On (every `defaultMeanNanos`) under `--check full`, off otherwise.
    case auto
    case off
    /// A preemption of each worker every `meanNanos`, on average.
    case every(meanNanos: UInt64)

    /// One preemption per 200 µs: a worker is held about 15% of the time (a spin of 16 µs
    /// on average 10 times in 16, a sleep of 110 µs and its wake-up 3 times in 16).
    public static let defaultMeanNanos: UInt64 = 200_000
    /// Shorter means would hold the workers more than they run.
    public static let shortestMeanNanos: UInt64 = 20_000

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public init(parsing text: String) throws {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "auto": self = .auto
        case "off", "0", "0s": self = .off
        default:
            let seconds: Double
            do { seconds = try DurationText.seconds(text) } catch {
                throw Invalid(description: "invalid --preempt '\(text)': auto, off, or a mean time between a worker's preemptions such as 200us")
            }
            let nanos = (seconds * 1e9).rounded()
            guard nanos >= Double(Self.shortestMeanNanos) else {
                throw Invalid(description: "--preempt \(text) is too often: the shortest mean is \(Self.shortestMeanNanos / 1000)us (or off)")
            }
            guard nanos <= 10e9 else { throw Invalid(description: "--preempt \(text) is too rare: the longest mean is 10s") }
            self = .every(meanNanos: UInt64(nanos))
        }
    }

    public var description: String {
        switch self {
        case .auto: return "auto"
        case .off: return "off"
        case let .every(n): return n % 1000 == 0 ? "\(n / 1000)us" : "\(Double(n) / 1000)us"
        }
    }

    /// The mean time between a worker's preemptions; 0: none. `auto` preempts
    /// only a run whose checker checks everything (`--check full`).
    public func meanNanos(checkingFully: Bool) -> UInt64 {
        switch self {
        case .auto: return checkingFully ? Self.defaultMeanNanos : 0
        case .off: return 0
        case let .every(n): return n
        }
    }
}

/// What the injected preemptions did in a run, summed over its workers.
public struct PreemptCounts: Codable, Sendable, Equatable {
    public var spins: UInt64 = 0
    public var yields: UInt64 = 0
    public var sleeps: UInt64 = 0

    public var total: UInt64 { spins + yields + sleeps }

    public static func + (a: Self, b: Self) -> Self {
        Self(spins: a.spins + b.spins, yields: a.yields + b.yields, sleeps: a.sleeps + b.sleeps)
    }
}

extension PreemptCounts {
    init(_ c: vms_preempt_counts) { self.init(spins: c.spins, yields: c.yields, sleeps: c.sleeps) }
}
