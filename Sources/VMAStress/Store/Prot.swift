/// VMA protection bits (PROT_READ, PROT_WRITE). PROT_NONE is the empty set.
public struct Prot: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let read = Prot(rawValue: 1)
    public static let write = Prot(rawValue: 2)
    public static let none: Prot = []
    public static let readWrite: Prot = [.read, .write]

    /// The access a fault needs.
    @inline(__always)
    public static func access(write: Bool) -> Prot { write ? .write : .read }

    public var description: String {
        (contains(.read) ? "r" : "-") + (contains(.write) ? "w" : "-")
    }
}

/// A half-open range of page numbers `[start, end)`. The model's addresses are page numbers.
public struct PageRange: Hashable, Sendable, CustomStringConvertible {
    public var start: UInt64
    public var end: UInt64

    public init(_ start: UInt64, _ end: UInt64) {
        self.start = start
        self.end = end
    }

    public init(start: UInt64, count: UInt64) { self.init(start, start + count) }

    public var count: UInt64 { end - start }
    public var isEmpty: Bool { end <= start }
    @inline(__always) public func contains(_ page: UInt64) -> Bool { page >= start && page < end }
    public func overlaps(_ other: PageRange) -> Bool { start < other.end && other.start < end }

    public var description: String {
        "[0x\(String(start, radix: 16)), 0x\(String(end, radix: 16)))"
    }
}
