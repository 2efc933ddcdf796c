import CSupport
import Glibc

/// A real OS thread (pthread) running a closure.
///
/// The entry point is a top-level function taking the closure through an
/// opaque pointer: a closure literal handed to pthread_create from `@main`
/// code would inherit `@MainActor` isolation and trap on the new thread.
public struct OSThread: @unchecked Sendable {
    final class Box {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }

    let handle: pthread_t
    public let name: String

    public enum SpawnError: Error, CustomStringConvertible {
        case create(name: String, errno: Int32)
        public var description: String {
            switch self {
            case let .create(name, e): return "cannot start thread \(name): \(String(cString: strerror(e)))"
            }
        }
    }

    public static func spawn(name: String, _ body: @escaping @Sendable () -> Void) throws -> OSThread {
        let box = Unmanaged.passRetained(Box(name: name, body: body)).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, osThreadEntry, box)
        guard rc == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            throw SpawnError.create(name: name, errno: rc)
        }
        return OSThread(handle: handle, name: name)
    }

    public func join() { pthread_join(handle, nil) }

    /// Joins unless the thread is still running after `milliseconds`.
    public func join(timeoutMilliseconds ms: Int) -> Bool {
        vms_timed_join(handle, Int32(ms)) == 0
    }
}

private func osThreadEntry(_ arg: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let box = Unmanaged<OSThread.Box>.fromOpaque(arg!).takeRetainedValue()
    _ = vms_set_thread_name(box.name)
    box.body()
    return nil
}
