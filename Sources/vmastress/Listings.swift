import Foundation
import VMAStress

/// The machine-readable listings (`strategies --json`, `invariants --json`,
/// `workloads --json`), built from the registry and the tables the tool runs
/// from, for scripts and CI matrices.
enum Listings {
    struct StrategyItem: Codable {
        let name: String
        let correct: Bool
        let summary: String
        let origin: String
        /// The trees it is correct on, its default first.
        let indexes: [String]
        /// The liburcu flavors it is built for (empty: no RCU).
        let rcuFlavors: [String]
        let capabilities: Capabilities
        let maxWorkers: Int?
        /// For a busted twin: the invariant it breaks and its base.
        let breaks: String?
        let twinOf: String?
        /// The `run` options it needs beyond the defaults (a twin's race, a one-thread strategy's single worker).
        let needs: [String]
    }

    struct InvariantItem: Codable {
        let id: String
        let meaning: String
        let detectedBy: String
        let evidence: String
        let brokenBy: [String]
    }

    struct WorkloadItem: Codable {
        let name: String
        let summary: String
        let defaultMutators: Int
        /// What its ops/s counts.
        let counts: String
        /// Its `--mix`, every key.
        let mix: [String: UInt64]
    }

    struct MixKey: Codable {
        let key: String
        let meaning: String
        let maximum: UInt64
    }

    struct Workloads: Codable {
        let workloads: [WorkloadItem]
        let mixKeys: [MixKey]
    }

    /// The options a strategy's entry says a run of it needs.
    static func needs(_ e: StrategyEntry) -> [String] {
        e.info.maxWorkers == 1 ? ["--faulters", "1", "--mutators", "0"] : e.info.caughtWith?.words ?? []
    }

    static var strategies: [StrategyItem] {
        StrategyRegistry.all.map { e in
            StrategyItem(name: e.info.name, correct: !e.info.isBusted, summary: e.info.summary, origin: e.info.origin,
                         indexes: e.info.indexes.map(\.rawValue), rcuFlavors: e.flavors.map(\.rawValue),
                         capabilities: e.capabilities, maxWorkers: e.info.maxWorkers, breaks: e.info.breaks?.rawValue,
                         twinOf: e.info.base, needs: needs(e))
        }
    }

    static var invariants: [InvariantItem] {
        Invariant.allCases.map { inv in
            InvariantItem(id: inv.rawValue, meaning: inv.entry.meaning, detectedBy: inv.entry.detectedBy, evidence: inv.entry.evidence,
                          brokenBy: StrategyRegistry.busted.filter { $0.info.breaks == inv }.map(\.info.name))
        }
    }

    static var workloads: Workloads {
        Workloads(
            workloads: Workload.allCases.map { w in
                WorkloadItem(name: w.rawValue, summary: w.summary, defaultMutators: w.defaultMutators, counts: w.spec.counted.rawValue,
                             mix: Dictionary(uniqueKeysWithValues: OpMix.specKeys.map { ($0.key, w.mix[keyPath: $0.path]) }))
            },
            mixKeys: OpMix.specKeys.map { MixKey(key: $0.key, meaning: $0.help, maximum: OpMix.specMaximum($0.key)) })
    }

    /// Writes `value` to standard output as pretty, key-sorted JSON.
    static func print<T: Encodable>(_ value: T) throws {
        Console.out(String(decoding: try AtomicFile.jsonData(value), as: UTF8.self))
    }
}
