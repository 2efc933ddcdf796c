import Foundation

/// The kernel's CPU list syntax: `0-3,6,8-9`.
public enum CPUList {
    public struct Invalid: Error, CustomStringConvertible {
        public let text: String
        public var description: String { "invalid CPU list '\(text)': write CPU numbers and ranges like 0-3,6" }
    }

    public static func parse(_ text: String) throws -> [Int] {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.isEmpty { return [] }
        var cpus = Set<Int>()
        for part in t.split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count <= 2, let lo = Int(bounds[0]), lo >= 0 else { throw Invalid(text: text) }
            let hi = bounds.count == 2 ? Int(bounds[1]) : lo
            guard let hi, hi >= lo, hi < 65536 else { throw Invalid(text: text) }
            cpus.formUnion(lo...hi)
        }
        return cpus.sorted()
    }

    public static func format(_ cpus: [Int]) -> String {
        let sorted = Set(cpus).sorted()
        var parts: [String] = []
        var i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(j == i ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }
}
