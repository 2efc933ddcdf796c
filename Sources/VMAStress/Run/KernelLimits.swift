import Foundation

/// What the host kernel allows the kernel backend's process.
enum KernelLimits {
    /// vm.max_map_count: the mappings one process may have (65530 by default).
    static let maxMapCount: Int? = {
        guard let text = try? String(contentsOfFile: "/proc/sys/vm/max_map_count", encoding: .utf8) else { return nil }
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }()
    /// Mappings the process needs besides the run's: its binary, libraries, heap, stacks.
    static let mapsReserved = 1024

    /// The most `--vmas` the kernel backend can place: each one-page VMA
    /// splits the run's PROT_NONE reservation, so it and the gap after it
    /// are two mappings. At --vmas 60000 a run failed to start its threads.
    static func maxVMAs(mapCount: Int) -> Int { (mapCount - mapsReserved) / 2 }
    /// The vm.max_map_count that lets the kernel backend place `vmas`.
    static func mapCount(forVMAs vmas: Int) -> Int { 2 * vmas + mapsReserved }
}
