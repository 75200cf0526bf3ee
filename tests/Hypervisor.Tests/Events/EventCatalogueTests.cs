using XenProf.Hypervisor.Binary;
using XenProf.Hypervisor.Events;
using XenProf.Hypervisor.PerfEvents;
using Xunit;

namespace XenProf.Hypervisor.Tests.Events;

public class EventCatalogueTests
{
    // name → canonical, perf type, config (enum perf_type_id, perf_hw_id, perf_sw_ids in include/uapi/linux/perf_event.h).
    [Theory]
    [InlineData("CPU_CLOCK", "CPU_CLOCK", PerfType.Software, 0)]
    [InlineData("cpu-clock", "CPU_CLOCK", PerfType.Software, 0)]
    [InlineData("TASK_CLOCK", "TASK_CLOCK", PerfType.Software, 1)]
    [InlineData("CPU_CLK_UNHALTED", "CPU_CLK_UNHALTED", PerfType.Hardware, 0)]
    [InlineData("cycles", "CPU_CLK_UNHALTED", PerfType.Hardware, 0)]
    [InlineData("instructions", "INST_RETIRED", PerfType.Hardware, 1)]
    [InlineData("LLC_REFS", "LLC_REFS", PerfType.Hardware, 2)]
    [InlineData("cache-misses", "LLC_MISSES", PerfType.Hardware, 3)]
    [InlineData("BRANCH_INSTRUCTIONS", "BRANCH_INSTRUCTIONS", PerfType.Hardware, 4)]
    [InlineData("BR_MISS_PRED_RETIRED", "BRANCH_MISSES", PerfType.Hardware, 5)]
    [InlineData("branch-misses", "BRANCH_MISSES", PerfType.Hardware, 5)]
    [InlineData("page-faults", "PAGE_FAULTS", PerfType.Software, 2)]
    [InlineData("context-switches", "CONTEXT_SWITCHES", PerfType.Software, 3)]
    public void Names_map_to_perf_events(string name, string canonical, PerfType type, ulong config)
    {
        Assert.True(EventCatalogue.TryFind(name, out var d));
        Assert.Equal((canonical, type, config), (d.Name, d.Type, d.Config));
        Assert.False(string.IsNullOrEmpty(d.Source));
        Assert.True(d.DefaultCount >= d.MinimumCount);
    }

    [Fact]
    public void Resolve_applies_default_minimum_and_modes()
    {
        var r = EventCatalogue.Resolve(EventSpec.Parse("CPU_CLOCK:500000:0:0:1"));
        Assert.Equal(new PerfEventRequest("CPU_CLOCK", PerfType.Software, 0, 500000, true, false, "perf software cpu-clock"), r);
        Assert.Equal(1_000_000UL, EventCatalogue.Resolve(EventSpec.Parse("CPU_CLOCK")).Period);
        Assert.Contains("below the minimum 6000 cycles", Assert.Throws<XenProfUserException>(() => EventCatalogue.Resolve(EventSpec.Parse("cycles:100"))).Message);
        Assert.Contains("unknown event 'NOPE'", Assert.Throws<XenProfUserException>(() => EventCatalogue.Resolve(EventSpec.Parse("NOPE:1000"))).Message);
        Assert.Contains("takes no unit mask", Assert.Throws<XenProfUserException>(() => EventCatalogue.Resolve(EventSpec.Parse("CPU_CLOCK:100000:3"))).Message);
    }

    [Fact]
    public void Default_rule_prefers_cycles_when_they_open()
    {
        Assert.Equal("CPU_CLK_UNHALTED:100000:0:1:1", EventCatalogue.DefaultSpec(_ => true).ToString());
        Assert.Equal("CPU_CLOCK:1000000:0:1:1", EventCatalogue.DefaultSpec(_ => false).ToString());
    }

    [Fact]
    public void Probe_reports_every_event_and_software_clock_opens()
    {
        var results = EventCatalogue.Probe();
        Assert.Equal(EventCatalogue.All.Count, results.Count);
        foreach (var r in results)
            Assert.True(r.Available == (r.Reason.Length == 0), $"{r.Event.Name}: {r.Reason}");
        var cpuClock = results.Single(r => r.Event.Name == "CPU_CLOCK");
        if (!cpuClock.Available && cpuClock.Errno is 1 or 13)
            return; // perf_event_open not permitted here; nothing more to check
        Assert.True(cpuClock.Available, cpuClock.Reason);
        var cycles = results.Single(r => r.Event.Name == "CPU_CLK_UNHALTED");
        if (!cycles.Available)
            Assert.Contains("not supported by this machine's PMU", cycles.Reason);
        // The default rule agrees with the probe.
        Assert.Equal(cycles.Available ? "CPU_CLK_UNHALTED" : "CPU_CLOCK", EventCatalogue.DefaultSpec().Name);
    }
}
