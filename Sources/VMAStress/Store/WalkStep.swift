/// What a walk of the index does between levels: a lockless walker's delay
/// point (`ReadPoint.inWalk`), called after each level of the descent with
/// the next node's address loaded and not yet read.
public protocol WalkStep {
    mutating func level()
}

/// Walks that nothing delays: writers under their lock, audits.
public struct NoWalkStep: WalkStep {
    @inline(__always) public init() {}
    @inline(__always) public mutating func level() {}
}
