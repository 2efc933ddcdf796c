import Foundation

/// The ratio new / base of two sides measured in pairs: each pair is one
/// run of each side back to back, in ABBA order (A B, B A, A B, ...), with
/// the same seed and the same fault work, so what drifts between pairs (the
/// host's speed, another tenant's load, a different seed's layout) cancels
/// in each pair's ratio, and which side runs second alternates.
///
/// Two tests, both on the pairs' log ratios (a ratio's log is symmetric
/// around 0 when nothing changed):
/// - a paired Student's t interval, the `confidence` interval of the
///   geometric mean ratio;
/// - the exact two-sided Wilcoxon signed-rank test: a rank test, so a single
///   wild pair (a second of a noisy neighbour) moves it by one rank, not by
///   its size. With 6 pairs its smallest p is 1/32, reached only when every
///   pair agrees in direction.
///
/// A change is judged (`verdict`) only when both agree and the ratio is
/// beyond the threshold: the interval excludes 1, the signed-rank p is at
/// most `rankAlpha`, and |ratio - 1| exceeds the threshold. Under no change
/// the signed-rank test alone fires in at most 1/32 of cells at 6 pairs,
/// and the 99% interval with it much less often.
public struct PairedRatio: Codable, Sendable, Equatable {
    public enum Verdict: String, Codable, Sendable {
        case slower, faster, same
        /// Too few pairs for the tests to reach significance.
        case tooFewPairs = "too few pairs"
    }

    public var pairs: Int
    /// Geometric mean of new / base over the pairs.
    public var ratio: Double
    /// The `confidence` interval of the ratio (paired t on the log ratios).
    public var low: Double
    public var high: Double
    public var confidence: Double
    /// Exact two-sided p of the Wilcoxon signed-rank test on the log ratios.
    public var signedRankP: Double

    public static let defaultConfidence = 0.99
    public static let rankAlpha = 0.05
    /// The fewest pairs at which the signed-rank test can reach `rankAlpha`.
    public static let minimumPairs = 6

    /// Pair i is `base[i]` with `new[i]`, over the runs both sides have (one
    /// cut short has fewer). nil when there is no pair or a paired value is
    /// not positive.
    public init?(base: [Double], new: [Double], confidence: Double = PairedRatio.defaultConfidence) {
        let paired = Array(zip(base, new))
        guard !paired.isEmpty, paired.allSatisfy({ $0.0 > 0 && $0.0.isFinite && $0.1 > 0 && $0.1.isFinite }) else { return nil }
        let logs = paired.map { Foundation.log($0.1 / $0.0) }
        let n = logs.count
        let mean = logs.reduce(0, +) / Double(n)
        var half = Double.infinity
        if n >= 2 {
            let sd = (logs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1)).squareRoot()
            half = StudentT.quantile(0.5 + confidence / 2, degreesOfFreedom: Double(n - 1)) * sd / Double(n).squareRoot()
        }
        pairs = n
        ratio = Foundation.exp(mean)
        low = Foundation.exp(mean - half)
        high = Foundation.exp(mean + half)
        self.confidence = confidence
        signedRankP = SignedRank.twoSidedP(logs)
    }

    /// slower, faster or the same, for a metric where higher is better
    /// (`higherIsBetter: false` turns slower and faster round).
    public func verdict(thresholdPercent: Double, higherIsBetter: Bool = true) -> Verdict {
        guard pairs >= Self.minimumPairs else { return .tooFewPairs }
        let t = thresholdPercent / 100
        let up = low > 1 && ratio > 1 + t, down = high < 1 && ratio < 1 - t
        guard signedRankP <= Self.rankAlpha, up || down else { return .same }
        return up == higherIsBetter ? .faster : .slower
    }

    /// `0.962 [0.951, 0.973]`
    public var text: String {
        "\(TextReport.fixed(ratio, 3)) [\(low.isFinite ? TextReport.fixed(low, 3) : "-"), \(high.isFinite ? TextReport.fixed(high, 3) : "-")]"
    }
}

/// Student's t distribution: the quantiles the paired interval needs.
enum StudentT {
    /// P(T <= t) for `df` degrees of freedom, from the regularised incomplete beta function.
    static func cdf(_ t: Double, degreesOfFreedom df: Double) -> Double {
        let x = df / (df + t * t)
        let tail = 0.5 * IncompleteBeta.regularized(x, a: df / 2, b: 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// The t with P(T <= t) = p, by bisection (p in (0.5, 1)).
    static func quantile(_ p: Double, degreesOfFreedom df: Double) -> Double {
        var lo = 0.0, hi = 1e4
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if cdf(mid, degreesOfFreedom: df) < p { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }
}

/// The regularised incomplete beta function I_x(a, b), by Lentz's continued fraction.
enum IncompleteBeta {
    static func regularized(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logGammas: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let logPowers: Double = a * Foundation.log(x) + b * Foundation.log(1 - x)
        let front = Foundation.exp(logGammas + logPowers)
        // The fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
        if x > (a + 1) / (a + b + 2) { return 1 - regularized(1 - x, a: b, b: a) }
        return front * fraction(x, a: a, b: b) / a
    }

    private static func fraction(_ x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if Swift.abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...300 {
            let m = Double(m)
            let even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + even * d; if Swift.abs(d) < tiny { d = tiny }
            c = 1 + even / c; if Swift.abs(c) < tiny { c = tiny }
            d = 1 / d; h *= d * c
            let odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + odd * d; if Swift.abs(d) < tiny { d = tiny }
            c = 1 + odd / c; if Swift.abs(c) < tiny { c = tiny }
            d = 1 / d
            let step = d * c
            h *= step
            if Swift.abs(step - 1) < 1e-15 { break }
        }
        return h
    }
}

/// The exact Wilcoxon signed-rank test.
enum SignedRank {
    /// Two-sided p for the hypothesis that `d` is symmetric around 0.
    /// Zeros are dropped; tied magnitudes share their mean rank (kept exact
    /// by counting in half ranks).
    static func twoSidedP(_ d: [Double]) -> Double {
        let nonzero = d.filter { $0 != 0 }
        let n = nonzero.count
        guard n > 0 else { return 1 }
        let order = nonzero.indices.sorted { Swift.abs(nonzero[$0]) < Swift.abs(nonzero[$1]) }
        // Doubled ranks: a tie of ranks 3 and 4 gives both 7 (3.5 doubled).
        var doubled = [Int](repeating: 0, count: n)
        var i = 0
        while i < n {
            var j = i
            while j + 1 < n && Swift.abs(nonzero[order[j + 1]]) == Swift.abs(nonzero[order[i]]) { j += 1 }
            for k in i...j { doubled[order[k]] = i + j + 2 }
            i = j + 1
        }
        let positive = nonzero.indices.filter { nonzero[$0] > 0 }.reduce(0) { $0 + doubled[$1] }
        let total = doubled.reduce(0, +)
        let smaller = min(positive, total - positive)
        // ways[s]: sign assignments whose positive doubled ranks add up to s.
        var ways = [Double](repeating: 0, count: total + 1)
        ways[0] = 1
        for r in doubled {
            for s in stride(from: total, through: r, by: -1) { ways[s] += ways[s - r] }
        }
        let atMost = ways[0...smaller].reduce(0, +)
        return min(1, 2 * atMost / Foundation.pow(2, Double(n)))
    }
}
