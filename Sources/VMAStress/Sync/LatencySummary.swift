import Histogram

/// The percentiles of a latency histogram, in nanoseconds (operations, grace periods).
public struct LatencySummary: Codable, Sendable {
    public var samples: UInt64
    public var min: UInt64
    public var p50: UInt64
    public var p90: UInt64
    public var p99: UInt64
    public var p999: UInt64
    public var max: UInt64
    public var mean: Double

    public init(_ h: Histogram<UInt64>) {
        samples = h.totalCount
        min = h.totalCount == 0 ? 0 : h.min
        p50 = h.valueAtPercentile(50)
        p90 = h.valueAtPercentile(90)
        p99 = h.valueAtPercentile(99)
        p999 = h.valueAtPercentile(99.9)
        max = h.max
        mean = h.totalCount == 0 ? 0 : h.mean
    }
}
