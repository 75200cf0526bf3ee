using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// A session directory on a small tmpfs that fills up: the daemon, <c>record</c> and <c>import</c> each stop with one line
/// "no space left on DIR …" and a non-zero exit, and what they committed before stays readable by <c>opreport</c>
/// (with SQLite's <c>PRAGMA integrity_check</c> passing). Needs root to mount; elsewhere skipped with the reason.
/// </summary>
[Collection(PerfCollection.Name)]
public sealed class FullDiskTests(ITestOutputHelper output)
{
    private static long Total(string report) => Cli.ParseSymbols(report).Sum(r => r.Samples);

    /// <summary>Room for the session's copy of /proc/kallsyms plus <paramref name="extraMiB"/> MiB of samples.</summary>
    private static long SizeFor(int extraMiB)
    {
        long kallsyms = 0;
        using (var f = File.OpenRead("/proc/kallsyms")) { var buf = new byte[1 << 16]; int n; while ((n = f.Read(buf)) > 0) kallsyms += n; }
        return (kallsyms + 4095) / 4096 * 4096 + extraMiB * (1L << 20);
    }

    /// <summary>Mounts a tmpfs of <paramref name="bytes"/> at a new directory, or returns null (and says why) when this machine does not let us.</summary>
    private string? MountSmallTmpfs(long bytes)
    {
        var mnt = Directory.CreateTempSubdirectory("xenoprof-full-").FullName;
        var r = PerfImportComparisonTests.Sh($"mount -t tmpfs -o size={bytes} xenoprof-full {mnt}");
        if (r.Code == 0) return mnt;
        output.WriteLine($"skipped: cannot mount a tmpfs here ({r.Err.Trim()})");
        Directory.Delete(mnt);
        return null;
    }

    private static void Unmount(string mnt)
    {
        PerfImportComparisonTests.Sh($"umount {mnt}");
        try { Directory.Delete(mnt, true); } catch (IOException) { }
    }

    private static void AssertNoSpaceLine(Cli.Result r, string verb, string dir)
    {
        Assert.NotEqual(0, r.ExitCode);
        Assert.NotEqual(2, r.ExitCode); // not an internal error
        var lines = r.Stderr.Trim().Split('\n');
        var line = Assert.Single(lines, l => l.Contains("no space left on " + dir, StringComparison.Ordinal));
        Assert.StartsWith($"xenoprof {verb}: ", line);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("internal error", r.Stderr);
    }

    private static void AssertReadable(string dir, long atLeast)
    {
        var rep = Cli.Run("opreport", "-l", "--session-dir", dir);
        Assert.True(rep.ExitCode == 0, $"opreport on the full session: exit {rep.ExitCode}: {rep.Stderr}");
        Assert.True(Total(rep.Stdout) >= atLeast, $"opreport shows {Total(rep.Stdout)} samples, fewer than the {atLeast} committed before the disk filled");
        Assert.Equal("ok", CrashSafetyTests.IntegrityCheck(Path.Combine(dir, "samples.db")));
    }

    [RootFact]
    public void Daemon_StopsWithNoSpaceLeft_KeepsEveryCompletedDump()
    {
        // Each dump of 10 kHz system-wide samples with 16-deep callchains takes a few MiB, more on a busy machine: room
        // for a few of them even then.
        if (MountSmallTmpfs(SizeFor(24)) is not { } mnt) return;
        var dir = Path.Combine(mnt, "session");
        try
        {
            Assert.Equal(0, Cli.Run("opcontrol", "--session-dir", dir, "--start-daemon", "--callgraph=16", "--event=CPU_CLOCK:100000").ExitCode);
            Assert.Equal(0, Cli.Run("opcontrol", "--session-dir", dir, "-s").ExitCode);
            long dumped = 0;
            Cli.Result? failed = null;
            for (int i = 0; i < 200 && failed == null; i++)
            {
                using (var w = Process.Start(Cli.Workload, "0.2")) w.WaitForExit();
                var dump = Cli.Run("opcontrol", "--session-dir", dir, "-d");
                if (dump.ExitCode != 0) { failed = dump; break; }
                dumped = Total(Cli.Run("opreport", "-l", "--session-dir", dir).Stdout);
            }
            Assert.NotNull(failed);
            output.WriteLine($"after {dumped} dumped samples: {failed.Stderr}");
            Assert.True(dumped > 0, "the disk was full before the first dump");
            AssertNoSpaceLine(failed, "opcontrol", dir);
            AssertReadable(dir, dumped);

            var status = Cli.Run("opcontrol", "--session-dir", dir, "--status");
            Assert.Equal(0, status.ExitCode);
            Assert.Contains("Stopped: no space left on " + dir, status.Stdout);
            Assert.Contains("no space left on " + dir, Cli.Run("opcontrol", "--session-dir", dir, "-s").Stderr);
            Assert.Equal(0, Cli.Run("opcontrol", "--session-dir", dir, "-h").ExitCode);
            AssertReadable(dir, dumped);
            Assert.True(File.ReadAllText(Path.Combine(dir, "session.json")).Contains("\"CallgraphDepth\": 16"), "session.json was damaged");
        }
        finally
        {
            Cli.Run("opcontrol", "--session-dir", dir, "--shutdown");
            Unmount(mnt);
        }
    }

    [RootFact]
    public void Record_StopsWithNoSpaceLeft_KeepsWhatItCommitted()
    {
        if (MountSmallTmpfs(SizeFor(2)) is not { } mnt) return;
        var dir = Path.Combine(mnt, "session");
        try
        {
            var r = Cli.Run("record", "--session-dir", dir, "--callgraph", "--event", "CPU_CLOCK:50000", "--", Cli.Workload, "60");
            output.WriteLine(r.Stderr);
            AssertNoSpaceLine(r, "record", dir);
            AssertReadable(dir, 1);
        }
        finally { Unmount(mnt); }
    }

    [PerfFact]
    public void Import_StopsWithNoSpaceLeft_AndTheSessionSaysItIsIncomplete()
    {
        var root = Directory.CreateTempSubdirectory("xenoprof-full-import-").FullName;
        string? mnt = null;
        try
        {
            var data = Path.Combine(root, "large.data");
            var rec = PerfImportComparisonTests.Sh($"perf record -g -F 20000 -o {data} -- {Cli.Workload} 3");
            Assert.True(rec.Code == 0, $"perf record failed: {rec.Err}");
            if ((mnt = MountSmallTmpfs(SizeFor(1))) == null) return;
            var dir = Path.Combine(mnt, "session");
            var r = Cli.Run("import", "--session-dir", dir, data);
            output.WriteLine(r.Stderr);
            AssertNoSpaceLine(r, "import", dir);
            var rep = Cli.Run("opreport", "-l", "--session-dir", dir);
            Assert.Equal(0, rep.ExitCode);
            Assert.Contains("Import incomplete", rep.Stdout);
            Assert.Equal("ok", CrashSafetyTests.IntegrityCheck(Path.Combine(dir, "samples.db")));
        }
        finally
        {
            if (mnt != null) Unmount(mnt);
            try { Directory.Delete(root, true); } catch (IOException) { }
        }
    }
}
