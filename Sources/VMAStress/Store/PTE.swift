/// A page-table entry: present and writable bits, and the generation of the
/// VMA that installed it (so the checker can tell a PTE that outlived its VMA).
public struct PTE: Equatable, Sendable, CustomStringConvertible {
    public let raw: UInt64

    static let presentBit: UInt64 = 1
    static let writableBit: UInt64 = 2
    static let genShift: UInt64 = 2

    @inline(__always) public init(raw: UInt64) { self.raw = raw }

    @inline(__always)
    public init(gen: UInt64, writable: Bool) {
        raw = (gen << Self.genShift) | Self.presentBit | (writable ? Self.writableBit : 0)
    }

    public static let none = PTE(raw: 0)

    @inline(__always) public var isPresent: Bool { raw & Self.presentBit != 0 }
    @inline(__always) public var isWritable: Bool { raw & Self.writableBit != 0 }
    @inline(__always) public var gen: UInt64 { raw >> Self.genShift }

    public func readOnly() -> PTE { PTE(raw: raw & ~Self.writableBit) }
    public func restamped(gen: UInt64) -> PTE { PTE(gen: gen, writable: isWritable) }

    public var description: String {
        isPresent ? "present\(isWritable ? " writable" : " read-only") gen \(gen)" : "none"
    }
}
