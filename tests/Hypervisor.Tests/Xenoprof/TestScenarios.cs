using XenProf.Hypervisor.Xenoprof;

namespace XenProf.Hypervisor.Tests.Xenoprof;

// Resolved scenarios with made-up address ranges, so the emulator can be tested without real images.
internal static class TestScenarios
{
    public static readonly AddressRange XenFn = new(0xffff82d040215870, 0xffff82d040215a00);
    public static readonly AddressRange XenCaller = new(0xffff82d040229a90, 0xffff82d040229c00);
    public static readonly AddressRange KernelFn = new(0xffffffff81a00000, 0xffffffff81a00400);
    public static readonly AddressRange UserFn = new(0x52b0f0, 0x52b400);

    public static ResolvedDomain Domain(int id, int vcpus = 1, double busy = 1.0, IReadOnlyList<int>? pcpus = null) => new(id, $"dom{id}", vcpus, pcpus ?? [], busy,
    [
        new ResolvedFunction("do_grant_table_op", "xen", XenoprofMode.Xen, XenFn.Start, XenFn.End, 2, [XenCaller]),
        new ResolvedFunction("net_rx_action", "kernel", XenoprofMode.Kernel, KernelFn.Start, KernelFn.End, 3, [XenCaller]),
        new ResolvedFunction("_PyEval_EvalFrameDefault", "python", XenoprofMode.User, UserFn.Start, UserFn.End, 1, [], 1000 + id),
    ], [new GuestProcess(1000 + id, "python3", "/usr/bin/python3.11", 0x41f000, 0x6d2000, 0x1f000)]);

    public static ResolvedScenario Make(int domains = 3, int pcpus = 2, ulong count = 100_000, int durationMs = 100, int seed = 7, int drainUs = 500)
    {
        var src = new Scenario { Name = "test", Seed = seed, Pcpus = pcpus, CpuMhz = 1000, Count = count, DurationMs = durationMs, DrainIntervalUs = drainUs };
        return new ResolvedScenario(src, Enumerable.Range(0, domains).Select(i => Domain(i)).ToList(), new Dictionary<string, string>());
    }

    public static string TempFile() => Path.Combine(Path.GetTempPath(), $"xenprof-test-{Guid.NewGuid():N}.bin");
}
