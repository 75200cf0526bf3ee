using XenProf.Reporter.Profile;
using XenProf.Reporter.Flame;

namespace XenProf.Reporter.Tests.Flame;

internal static class FlameTestData
{
    public static string DataPath(string name) => Path.Combine(AppContext.BaseDirectory, "Data", "flame", name);

    public static FlameFrame P(string name) => new(name, FrameKind.Process);

    public static FlameFrame U(string name) => new(name, FrameKind.User);

    public static FlameFrame K(string name) => new(name, FrameKind.Kernel);

    public static FlameFrame J(string name) => new(name, FrameKind.Jit);

    public static FlameFrame H(string name) => new(name, FrameKind.Hypervisor);

    public static FlameFrame G(string name) => new(name, FrameKind.Guest);

    public static FlameStack S(long count, params FlameFrame[] frames) => new(frames, count);

    /// <summary>A small mixed profile: two processes, user/kernel/JIT/hypervisor/guest frames, one duplicate stack.</summary>
    public static FlameStack[] Small() =>
    [
        S(5, P("java"), U("main"), J("Foo.run"), K("sys_write")),
        S(3, P("java"), U("main"), J("Foo.run")),
        S(2, P("bash"), U("main"), U("readline")),
        S(1, P("java"), U("main"), J("Foo.run"), K("sys_write")),
        S(4, P("xen"), H("do_softirq")),
        S(2, P("domain1-kernel"), G("schedule")),
        S(1, P("java"), U("GC Thread"), U("collect")),
    ];
}
