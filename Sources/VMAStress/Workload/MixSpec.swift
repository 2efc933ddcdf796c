import Foundation

/// `--mix mmap=30,munmap=30,stable=25,...`: single op-mix settings on top of
/// a workload preset, and the same text rendered back for reproducers.
extension OpMix {
    /// The settings `--mix` takes, in the order they are rendered.
    public static var specKeys: [(key: String, path: WritableKeyPath<OpMix, UInt64>, help: String)] { [
        ("mmap", \.mmapWeight, "mmap weight"),
        ("munmap", \.munmapWeight, "munmap weight"),
        ("mprotect", \.mprotectWeight, "mprotect weight"),
        ("mremap", \.mremapWeight, "mremap weight"),
        ("take-all-locks", \.takeAllLocksWeight, "take-all-locks weight"),
        ("stable", \.faultStablePercent, "percent of faults on the stable region"),
        ("guard", \.faultGuardPercent, "percent of faults on the guard"),
        ("hot", \.faultHotPercent, "percent of churn faults aimed at the range a mutation works on"),
        ("write", \.faultWritePercent, "percent of faults that write"),
        ("lookup", \.lookupPercent, "percent of faulter operations that are read-only VMA lookups (mmap_lock speculation), not faults"),
        ("max-pages", \.maxMutationPages, "largest mutation, in pages"),
        ("populate", \.initialChurnPercent, "percent of churn mapped before the run"),
    ] }

    public struct SpecError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The largest value a `--mix` setting takes: 100 for percentages,
    /// a million for weights, 2^26 pages for the largest mutation.
    public static func specMaximum(_ key: String) -> UInt64 {
        switch key {
        case "stable", "guard", "hot", "write", "populate", "lookup": return 100
        case "max-pages": return Layout.maxRegionPages
        default: return maxWeight
        }
    }

    public static let maxWeight: UInt64 = 1_000_000

    /// Applies `key=value` pairs separated by commas.
    public mutating func apply(spec: String) throws {
        for item in spec.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else {
                throw SpecError(description: "--mix item '\(item)' is not key=value")
            }
            guard let entry = Self.specKeys.first(where: { $0.key == parts[0] }) else {
                throw SpecError(description: "--mix has no setting '\(parts[0])'; it takes "
                    + Self.specKeys.map(\.key).joined(separator: ", "))
            }
            guard let value = UInt64(parts[1]) else {
                throw SpecError(description: "--mix \(parts[0])=\(parts[1]): not a non-negative integer")
            }
            let most = Self.specMaximum(entry.key)
            guard value <= most else {
                throw SpecError(description: "--mix \(parts[0])=\(parts[1]): the most it takes is \(most)")
            }
            self[keyPath: entry.path] = value
        }
    }

    /// The `--mix` text that turns `base` into this mix (empty when equal).
    public func spec(from base: OpMix) -> String {
        Self.specKeys.filter { self[keyPath: $0.path] != base[keyPath: $0.path] }
            .map { "\($0.key)=\(self[keyPath: $0.path])" }.joined(separator: ",")
    }
}
