import CSupport

/// The CPU's spin-wait hint, for loops that wait on another thread.
@inline(__always)
public func spinHint() { vms_cpu_relax() }
