using Xunit;

namespace XenProf.XenOprof.Tests;

/// <summary>User mistakes give one line on stderr and exit code 1, never a stack trace.</summary>
public sealed class BadInputTests
{
    private static void AssertOneLineError(Cli.Result r, string expected)
    {
        Assert.Equal(1, r.ExitCode);
        var lines = r.Stderr.Trim().Split('\n');
        Assert.Single(lines);
        Assert.Contains(expected, lines[0]);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public void UnknownEvent()
    {
        var r = Cli.Run("record", "--session-dir", Cli.NewSessionDir(), "--event", "NO_SUCH_EVENT:1000", "--", "true");
        AssertOneLineError(r, "NO_SUCH_EVENT");
    }

    [Fact]
    public void MalformedEventSpec()
    {
        var r = Cli.Run("record", "--session-dir", Cli.NewSessionDir(), "--event", "CPU_CLOCK:lots", "--", "true");
        AssertOneLineError(r, "CPU_CLOCK:lots");
    }

    [Fact]
    public void CommandNotFound()
    {
        var r = Cli.Run("record", "--session-dir", Cli.NewSessionDir(), "--", "/nonexistent/xenoprof-no-such-command");
        AssertOneLineError(r, "xenoprof-no-such-command");
    }

    [Fact]
    public void SessionDirNotWritable()
    {
        var file = Path.GetTempFileName(); // a regular file: nothing can be created beneath it
        var r = Cli.Run("record", "--session-dir", Path.Combine(file, "session"), "--", "true");
        AssertOneLineError(r, "not writable");
        File.Delete(file);
    }

    [Fact]
    public void HardwareEventMissingOnThisPmu_NamesEventAndSuggestsCpuClock()
    {
        var probe = XenProf.Hypervisor.Events.EventCatalogue.Probe().First(p => p.Event.Name == "CPU_CLK_UNHALTED");
        if (probe.Available) return; // a machine with a PMU counts cycles: nothing to refuse
        var r = Cli.Run("record", "--session-dir", Cli.NewSessionDir(), "--event", "CPU_CLK_UNHALTED:100000", "--", "true");
        AssertOneLineError(r, "CPU_CLK_UNHALTED");
        Assert.Contains("CPU_CLOCK", r.Stderr);
    }

    [Fact]
    public void ReportOnEmptyDirectory()
    {
        var dir = Cli.NewSessionDir();
        Directory.CreateDirectory(dir);
        AssertOneLineError(Cli.Run("opreport", "--session-dir", dir), "no session store");
    }

    [Fact]
    public void OpcontrolWithoutDaemon()
    {
        AssertOneLineError(Cli.Run("opcontrol", "--session-dir", Cli.NewSessionDir(), "--dump"), "no daemon is running");
    }

    [RootFact]
    public void NoPerfEventPermission()
    {
        // An unprivileged user may not sample the whole machine when perf_event_paranoid > 0.
        if (!File.Exists("/usr/bin/setpriv")) return;
        var paranoid = File.ReadAllText("/proc/sys/kernel/perf_event_paranoid").Trim();
        if (int.Parse(paranoid) <= 0) return;
        var dir = Cli.NewSessionDir();
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, (UnixFileMode)0x1ff);
        var r = Cli.RunAs(["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=/tmp", "DOTNET_CLI_HOME=/tmp"],
            "record", "-a", "--session-dir", dir, "--", "true");
        AssertOneLineError(r, "perf_event_paranoid");
        Directory.Delete(dir, true);
    }
}
