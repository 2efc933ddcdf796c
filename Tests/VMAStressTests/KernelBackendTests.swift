import CSupport
import Foundation
import Testing
@testable import VMAStress

/// The `kernel` backend: the model's workloads on the host kernel, with the
/// checks of what the kernel promises.
@Suite("Kernel backend", .serialized)
struct KernelBackendTests {
    /// Each call lands on the real address space, and a touch says what a fault would.
    @Test func touchesSeeWhatTheCallsDid() {
        let mm = MM(pages: 256, maxVMAs: 64)
        let k = Kernel(mm: mm)
        defer { k.shutdown(); mm.destroy() }
        let stats = WorkerStats(name: "t", role: .faulter, index: 0)
        var ctx = stats.faultContext()
        #expect(k.fault(10, write: false, &ctx) == .noVMA, "a placeholder page is a hole")
        #expect(k.perform(.mmapFixed(PageRange(10, 20), .readWrite, flags: 0)).status == .done)
        #expect(k.perform(.mmapFixed(PageRange(15, 25), .readWrite, flags: 0)).status == .noSpace)
        #expect(k.fault(12, write: true, &ctx) == .present)
        #expect(k.perform(.mprotect(PageRange(10, 14), .read)).status == .done)
        #expect(k.fault(11, write: false, &ctx) == .present)
        #expect(k.fault(11, write: true, &ctx) == .accessDenied)
        #expect(k.perform(.mprotect(PageRange(18, 30), .read)).status == .noTarget, "a range with a hole")
        let moved = k.perform(.mremap(vmaAt: 16, within: PageRange(100, 200), hint: 150))
        #expect(moved.status == .done && moved.touched == [PageRange(14, 20), PageRange(150, 156)])
        #expect(k.fault(16, write: false, &ctx) == .noVMA)
        #expect(k.fault(152, write: true, &ctx) == .present)
        #expect(k.perform(.munmap(PageRange(0, 256))).status == .done)
        for p: UInt64 in [10, 12, 152] { #expect(k.fault(p, write: false, &ctx) == .noVMA) }
        #expect(k.perform(.munmap(PageRange(0, 256))).status == .noTarget)
        let gap = k.perform(.mmap(count: 8, prot: .readWrite, within: PageRange(40, 60), hint: 55))
        #expect(gap.status == .done && gap.touched == [PageRange(40, 48)], "first fit wraps to the start")
        #expect(k.takeFindings().isEmpty)
    }

    static let workloads = Workload.allCases

    @Test(arguments: workloads)
    func cleanOnEveryWorkload(_ workload: Workload) throws {
        // Three mutators: calls on one range race in the kernel, never in the books. will-it-scale's
        // testcases run its own loop in threads of this process (no mutators, no books).
        var c = RunConfig(strategy: "kernel", faulters: 2, mutators: workload.privateRegions ? 0 : 3,
                          durationSeconds: workload.runsInProcesses ? 0.8 : 1.5,
                          warmupSeconds: 0.1, seed: 9, checkpointIntervalSeconds: 0.25)
        c.workload = workload
        c.mix = workload.mix
        try c.validate()
        let r = try Runner.run(c)
        #expect(r.verdict == .success, "\(workload.rawValue): \(r.violations.map(\.text))")
        #expect(r.countedOpsPerSecond > 0)
        // mmap1, mmap2 and brk1 touch nothing; read-mostly faults only on the stable region, touched in the warm-up.
        let touches = workload.spec.regions.map { $0.touch && !$0.heap } ?? true
        #expect(((r.op(.fault)?.count ?? 0) > 0) == touches)
        if touches && workload != .readMostly { #expect(r.process.minorFaults > 0, "real faults") }
        if workload.runsInProcesses && touches && workload.spec.regions!.backing == .anonymous {
            // The loop's own threads' resource use: a touch is a fault of the thread that made it.
            let faults = r.threads.filter { $0.role == .faulter }.reduce(0) { $0 + $1.minorFaults }
            #expect(faults > 0 && UInt64(faults) <= (r.op(.fault)?.count ?? 0) + 4096)
        }
        // brk1 moved this process's break: malloc still works beside it.
        let probe = [UInt8](repeating: 1, count: 1 << 20)
        #expect(probe.reduce(0) { $0 + Int($1) } == 1 << 20)
        #expect(r.checker.invariantsChecked == [.stable, .mapping])
        let mutations = OpKind.allCases.filter { $0 != .fault }.reduce(UInt64(0)) { $0 + (r.op($1)?.count ?? 0) }
        #expect(mutations > 0)
    }

    @Test func sideBySideWithTheModel() throws {
        for name in ["kernel", "per-vma-lock"] {
            var c = RunConfig(strategy: name, faulters: 1, mutators: 0, durationSeconds: 0.5, warmupSeconds: 0.1, seed: 2)
            c.workload = .pageFault
            c.mix = Workload.pageFault.mix
            c.faultWork = .page
            let r = try Runner.run(c)
            #expect(r.verdict == .success)
            // The kernel does its own work: the run records none.
            #expect(r.config.faultWork == (name == "kernel" ? .none : .page))
        }
    }

    /// will-it-scale's processes mode: every faulter a process of its own,
    /// its counters, samples and resource use brought back by its proxy.
    @Test(arguments: Workload.allCases.filter(\.runsInProcesses))
    func processesRunEveryWorkloadThatMapsItsOwnRegion(_ workload: Workload) throws {
        var c = RunConfig(strategy: "kernel", faulters: 2, mutators: 0, durationSeconds: 0.6, warmupSeconds: 0.1, seed: 4,
                          checkpointIntervalSeconds: 0.2, layout: Layout.sized(for: workload, faulters: 2))
        c.workload = workload
        c.mix = workload.mix
        c.processes = true
        try c.validate()
        let r = try Runner.run(c)
        #expect(r.verdict == .success, "\(workload.rawValue): \(r.violations.map(\.text))")
        #expect(r.countedOpsPerSecond > 0)
        #expect(r.reproduce.contains("--processes"))
        let touches = workload.spec.regions!.touch && !workload.spec.regions!.heap
        if touches {
            // Sampled latencies came back, and the children's own faults: one per touch at most.
            #expect((r.op(.fault)?.latencyNs.samples ?? 0) > 0)
            let children = r.threads.filter { $0.role == .faulter }.reduce(0) { $0 + $1.minorFaults }
            #expect(children > 0 && UInt64(children) <= (r.op(.fault)?.count ?? 0) + 4096)
        }
    }

    /// A worker process that dies is reported, with the signal that killed it.
    @Test func aWorkerProcessThatDiesIsSeen() throws {
        let task = try #require(vms_task_create(Int32(VMS_TASK_CHUNKS), 1 << 20, 1, -1, 0, 63, 0))
        defer { vms_task_destroy(task) }
        let pid = vms_task_start(task)
        #expect(pid > 0)
        let w = WorkerStats(name: "p", role: .faulter, index: 0)
        var proxy = TaskProxy(task: task, w: w, nsPerTick: 1)
        #expect(proxy.state(wait: false) == .running)
        kill(pid, SIGKILL)
        guard case let .ended(how) = proxy.state(wait: true) else { Issue.record("still running"); return }
        #expect(how?.contains("signal \(SIGKILL)") == true, "\(how ?? "exited 0")")
    }

    /// A worker thread whose touch fails (a shared mapping of an empty file: SIGBUS) ends
    /// its loop and is reported with how, instead of taking the harness down.
    @Test func aWorkerThreadWhoseTouchFailsIsSeen() throws {
        let fd = vms_temp_file(0, 0)
        try #require(fd >= 0)
        defer { close(fd) }
        vms_touch_install()
        let task = try #require(vms_task_create(Int32(VMS_TASK_CHUNKS), 1 << 20, 1, fd, 1, 63, 1))
        defer { vms_task_destroy(task) }
        #expect(vms_task_start(task) == 0)
        let w = WorkerStats(name: "t", role: .faulter, index: 0)
        var proxy = TaskProxy(task: task, w: w, nsPerTick: 1)
        guard case let .ended(how) = proxy.state(wait: true) else { Issue.record("still running"); return }
        #expect(how?.contains("no mapping") == true, "\(how ?? "ended without a failure")")
    }

    @Test func processesAreForTheKernelAndSingleRegionWorkloads() {
        var c = RunConfig(strategy: "per-vma-lock", faulters: 2, mutators: 0)
        c.workload = .pageFault1
        c.processes = true
        #expect(throws: RunConfig.Invalid.self) { try c.validate() }
        c.strategy = "kernel"
        c.workload = .ebizzy
        #expect(throws: RunConfig.Invalid.self) { try c.validate() }
        c.workload = .brk1
        #expect(throws: Never.self) { try c.validate() }
    }
}
