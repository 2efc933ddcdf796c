/// The sleeping reader-writer locks, `RWSem` (the kernel's rwsem) and `PthreadRWLock`, for
/// the code that stresses or times either one the same way.
public protocol ReaderWriterLock: Sendable {
    func readLock()
    func readUnlock()
    func writeLock()
    func writeUnlock()
    func destroy()
}

extension RWSem: ReaderWriterLock {}
extension PthreadRWLock: ReaderWriterLock {}
