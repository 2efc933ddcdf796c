import Foundation

/// Durations as users write them: `10s`, `2m`, `500ms`, `1h`, `1.5s`, or bare seconds.
public enum DurationText {
    public struct Invalid: Error, CustomStringConvertible {
        public let text: String
        public let reason: String
        public var description: String { "invalid duration '\(text)': \(reason)" }
    }

    static let units: [(suffix: String, seconds: Double)] = [
        ("ms", 0.001), ("us", 0.000_001), ("s", 1), ("m", 60), ("h", 3600),
    ]

    /// The longest duration any option takes: 30 days.
    public static let maxSeconds: Double = 30 * 24 * 3600

    /// Seconds in `text`; throws for garbage, negatives, non-finite values and more than 30 days.
    public static func seconds(_ text: String) throws -> Double {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        var number = Substring(t)
        var scale = 1.0
        for (suffix, seconds) in units where t.hasSuffix(suffix) {
            number = t.dropLast(suffix.count)
            scale = seconds
            break
        }
        guard let value = Double(number), value.isFinite else {
            throw Invalid(text: text, reason: "write a number with a unit, like 500ms, 10s, 2m or 1h")
        }
        guard value >= 0 else { throw Invalid(text: text, reason: "it must not be negative") }
        guard value * scale <= maxSeconds else { throw Invalid(text: text, reason: "the longest is 30 days (720h)") }
        return value * scale
    }

    /// The shortest exact spelling: `10s`, `2m`, `250ms`.
    public static func format(_ seconds: Double) -> String {
        if seconds >= 3600, seconds.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(seconds / 3600))h" }
        if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60))m" }
        if seconds.rounded() == seconds { return "\(Int(seconds))s" }
        let ms = seconds * 1000
        if ms.rounded() == ms { return "\(Int(ms))ms" }
        return "\(seconds)s"
    }
}
