using XenProf.Hypervisor.Xenoprof;
using Xunit;
using static XenProf.Hypervisor.Xenoprof.XenoprofAbi;

namespace XenProf.Hypervisor.Tests.Xenoprof;

// Xen's global state machine (do_xenoprof_op in xen/common/xenoprof.c): every out-of-order op is
// refused with the value Xen returns (-EPERM for a state violation or a non-primary caller, -EINVAL for an unknown op).
public sealed class StateMachineTests : IDisposable
{
    private readonly EmulatedHypervisor _xen = new(TestScenarios.Make(domains: 27), TestScenarios.TempFile());

    public void Dispose()
    {
        var p = _xen.SharedMemoryPath;
        _xen.Dispose();
        File.Delete(p);
    }

    private int Op(int caller, XenoprofOp op, int arg16 = 0)
    {
        var b = new byte[72];
        switch (op)
        {
            case XenoprofOp.GetBuffer: new XenoprofGetBuffer(16).Write(b); break;
            case XenoprofOp.SetActive: System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)arg16); break;
            case XenoprofOp.SetPassive: new XenoprofPassive((ushort)arg16, 64).Write(b); break;
            case XenoprofOp.Counter: new XenoprofCounter((uint)arg16, 100_000, true, 0x3c, true, true, true, 0).Write(b); break;
        }
        return _xen.Op(caller, op, b);
    }

    private void Reach(XenoprofState state)
    {
        var steps = new List<(int, XenoprofOp, int)>();
        if (state >= XenoprofState.Initialized) steps.Add((0, XenoprofOp.Init, 0));
        if (state >= XenoprofState.CountersReserved)
            steps.AddRange([(0, XenoprofOp.GetBuffer, 0), (0, XenoprofOp.SetActive, 0), (0, XenoprofOp.ReserveCounters, 0)]);
        if (state >= XenoprofState.Ready) steps.AddRange([(0, XenoprofOp.Counter, 0), (0, XenoprofOp.SetupEvents, 0)]);
        if (state >= XenoprofState.Profiling) steps.AddRange([(0, XenoprofOp.EnableVirq, 0), (0, XenoprofOp.Start, 0)]);
        foreach (var (caller, op, arg) in steps) Assert.Equal(0, Op(caller, op, arg));
        Assert.Equal(state, _xen.State);
    }

    [Theory]
    [InlineData(XenoprofState.Idle, XenoprofOp.SetActive)]
    [InlineData(XenoprofState.Idle, XenoprofOp.ReserveCounters)]
    [InlineData(XenoprofState.Idle, XenoprofOp.Start)]
    [InlineData(XenoprofState.Idle, XenoprofOp.Shutdown)]
    [InlineData(XenoprofState.Initialized, XenoprofOp.Counter)]
    [InlineData(XenoprofState.Initialized, XenoprofOp.SetupEvents)]
    [InlineData(XenoprofState.Initialized, XenoprofOp.EnableVirq)]
    [InlineData(XenoprofState.Initialized, XenoprofOp.Start)]
    [InlineData(XenoprofState.Initialized, XenoprofOp.Stop)]
    [InlineData(XenoprofState.Initialized, XenoprofOp.ReleaseCounters)]
    [InlineData(XenoprofState.Initialized, XenoprofOp.IbsCounter)]
    [InlineData(XenoprofState.CountersReserved, XenoprofOp.SetActive)]
    [InlineData(XenoprofState.CountersReserved, XenoprofOp.SetPassive)]
    [InlineData(XenoprofState.CountersReserved, XenoprofOp.ReserveCounters)]
    [InlineData(XenoprofState.CountersReserved, XenoprofOp.EnableVirq)]
    [InlineData(XenoprofState.CountersReserved, XenoprofOp.Start)]
    [InlineData(XenoprofState.CountersReserved, XenoprofOp.Stop)]
    [InlineData(XenoprofState.CountersReserved, XenoprofOp.Shutdown)]
    [InlineData(XenoprofState.Ready, XenoprofOp.SetActive)]
    [InlineData(XenoprofState.Ready, XenoprofOp.ReserveCounters)]
    [InlineData(XenoprofState.Ready, XenoprofOp.Counter)]
    [InlineData(XenoprofState.Ready, XenoprofOp.SetupEvents)]
    [InlineData(XenoprofState.Ready, XenoprofOp.Start)] // dom0 is active but has not enabled its VIRQ
    [InlineData(XenoprofState.Ready, XenoprofOp.Stop)]
    [InlineData(XenoprofState.Ready, XenoprofOp.Shutdown)]
    [InlineData(XenoprofState.Profiling, XenoprofOp.SetPassive)]
    [InlineData(XenoprofState.Profiling, XenoprofOp.ReserveCounters)]
    [InlineData(XenoprofState.Profiling, XenoprofOp.SetupEvents)]
    [InlineData(XenoprofState.Profiling, XenoprofOp.EnableVirq)]
    [InlineData(XenoprofState.Profiling, XenoprofOp.Start)]
    [InlineData(XenoprofState.Profiling, XenoprofOp.DisableVirq)]
    [InlineData(XenoprofState.Profiling, XenoprofOp.ReleaseCounters)]
    [InlineData(XenoprofState.Profiling, XenoprofOp.Shutdown)]
    public void OutOfOrderOpIsRefusedWithEperm(XenoprofState state, XenoprofOp op)
    {
        Reach(state);
        Assert.Equal(EPERM, Op(0, op, op == XenoprofOp.SetPassive ? 2 : 1));
        Assert.Equal(state, _xen.State);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(18)]
    [InlineData(1000)]
    public void UnknownOpIsEinval(int op) => Assert.Equal(EINVAL, _xen.Op(0, (XenoprofOp)op, new byte[8]));

    [Theory]
    [InlineData(XenoprofOp.ResetActiveList)]
    [InlineData(XenoprofOp.SetActive)]
    [InlineData(XenoprofOp.SetPassive)]
    [InlineData(XenoprofOp.ReserveCounters)]
    [InlineData(XenoprofOp.Start)]
    [InlineData(XenoprofOp.SetBacktrace)]
    public void NonPrimaryCallerGetsEperm(XenoprofOp op)
    {
        Reach(XenoprofState.Initialized);
        var init = new byte[XenoprofInit.Size];
        Assert.Equal(0, _xen.Op(1, XenoprofOp.Init, init));
        Assert.False(XenoprofInit.Read(init).IsPrimary);
        Assert.Equal(EPERM, Op(1, op, 1));
    }

    [Fact]
    public void OnlyTheHardwareDomainBecomesPrimary()
    {
        using var h = _xen.Connect(2);
        Assert.False(h.Init().IsPrimary);
        Assert.Equal(XenoprofState.Idle, _xen.State);
        using var d0 = _xen.Connect(0);
        var init = d0.Init();
        Assert.True(init.IsPrimary);
        Assert.Equal(8, init.NumEvents);
        Assert.Equal("i386/arch_perfmon", init.CpuType);
    }

    [Fact]
    public void MoreThan25ActiveOrPassiveDomainsIsE2big()
    {
        Reach(XenoprofState.Initialized);
        for (int d = 0; d < MaxDomains; d++) Assert.Equal(0, Op(0, XenoprofOp.SetActive, d));
        Assert.Equal(E2BIG, Op(0, XenoprofOp.SetActive, 25));
        Assert.Equal(0, Op(0, XenoprofOp.ResetActiveList));
        Assert.Equal(0, Op(0, XenoprofOp.SetActive, 0));
        for (int d = 1; d <= MaxDomains; d++) Assert.Equal(0, Op(0, XenoprofOp.SetPassive, d));
        Assert.Equal(E2BIG, Op(0, XenoprofOp.SetPassive, 26));
    }

    [Fact]
    public void CounterIndexPastTheLastIsE2big()
    {
        Reach(XenoprofState.CountersReserved);
        Assert.Equal(0, Op(0, XenoprofOp.Counter, 7));
        Assert.Equal(E2BIG, Op(0, XenoprofOp.Counter, 8));
    }

    [Fact]
    public void GetBufferIsEbusyWhileHvmVpmuOwnsThePmu()
    {
        _xen.HvmVpmuOwnsPmu = true;
        Assert.Equal(EBUSY, Op(0, XenoprofOp.GetBuffer));
        _xen.HvmVpmuOwnsPmu = false;
        Assert.Equal(0, Op(0, XenoprofOp.GetBuffer));
    }

    [Fact]
    public void StartWaitsForEveryActiveDomainsEnableVirq()
    {
        Reach(XenoprofState.Initialized);
        Assert.Equal(0, Op(0, XenoprofOp.GetBuffer));
        Assert.Equal(0, Op(0, XenoprofOp.SetActive, 0));
        Assert.Equal(0, Op(0, XenoprofOp.SetActive, 1));
        Assert.Equal(0, Op(0, XenoprofOp.ReserveCounters));
        Assert.Equal(0, Op(0, XenoprofOp.Counter, 0));
        Assert.Equal(0, Op(0, XenoprofOp.SetupEvents));
        Assert.Equal(0, Op(0, XenoprofOp.EnableVirq));
        Assert.Equal(EPERM, Op(0, XenoprofOp.Start));
        Assert.Equal(0, Op(1, XenoprofOp.GetBuffer));
        Assert.Equal(0, Op(1, XenoprofOp.EnableVirq));
        Assert.Equal(EPERM, Op(2, XenoprofOp.EnableVirq)); // not in the active list
        Assert.Equal(0, Op(0, XenoprofOp.Start));
        Assert.Equal(XenoprofState.Profiling, _xen.State);
    }

    [Fact]
    public void FullLifecycleReturnsToIdle()
    {
        Reach(XenoprofState.Profiling);
        foreach (var op in new[] { XenoprofOp.Stop, XenoprofOp.DisableVirq, XenoprofOp.ReleaseCounters, XenoprofOp.Shutdown })
            Assert.Equal(0, Op(0, op));
        Assert.Equal(XenoprofState.Idle, _xen.State);
        Reach(XenoprofState.Profiling); // and again: a second session on the same Xen
    }

    [Fact]
    public void TypedCallsThrowWithXensError()
    {
        using var d0 = _xen.Connect(0);
        var e = Assert.Throws<XenoprofException>(() => d0.Simple(XenoprofOp.ReserveCounters));
        Assert.Equal(EPERM, e.ReturnCode);
        Assert.Contains("XENOPROF_reserve_counters failed: -EPERM", e.Message);
    }
}
