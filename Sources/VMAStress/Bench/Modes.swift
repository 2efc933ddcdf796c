/// Whether a cell's repetitions fall in two groups apart (issue 27: a cell whose runs are
/// either 7M or 15M is two numbers, not a median and a spread). The split is at the widest
/// gap between neighbours in sorted order; it counts when the gap is at least 25% and wider
/// than either group's own spread, with two runs or more in each group.
public enum Modes {
    public static let minimumGap = 1.25

    /// The two modes' medians, low first, with how many runs each holds; nil: one mode.
    public static func of(_ rates: [Double]) -> [Mode]? {
        let v = rates.filter { $0 > 0 }.sorted()
        guard v.count >= 4 else { return nil }
        var best: (split: Int, gap: Double)?
        for i in 2...(v.count - 2) {
            let gap = v[i] / v[i - 1]
            if gap > (best?.gap ?? 0) { best = (i, gap) }
        }
        guard let best, best.gap >= minimumGap else { return nil }
        let low = Array(v[..<best.split]), high = Array(v[best.split...])
        guard low.last! / low.first! < best.gap, high.last! / high.first! < best.gap else { return nil }
        return [Mode(median: median(low), runs: low.count), Mode(median: median(high), runs: high.count)]
    }

    public struct Mode: Codable, Sendable, Equatable {
        public var median: Double
        public var runs: Int
    }

    static func median(_ sorted: [Double]) -> Double {
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}
