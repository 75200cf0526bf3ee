using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// <c>kill -9</c> at the store's most fragile points, then reopen: the daemon held between a dump's sample-log write
/// and its commit (the store's test hook, <c>XENPROF_TEST_PAUSE_BEFORE_COMMIT</c>), and an import of a large perf.data
/// killed while it writes. Reports still open, nothing committed is lost, a half-done import says so and is redone in
/// full, and SQLite's <c>PRAGMA integrity_check</c> passes.
/// </summary>
[Collection(PerfCollection.Name)]
public sealed class CrashSafetyTests(ITestOutputHelper output)
{
    private static long Total(string report) => Cli.ParseSymbols(report).Sum(r => r.Samples);

    internal static string IntegrityCheck(string db)
    {
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = db, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA integrity_check";
        return string.Join("; ", Read(cmd));
    }

    private static List<string> Read(SqliteCommand cmd)
    {
        var rows = new List<string>();
        using var r = cmd.ExecuteReader();
        while (r.Read()) rows.Add(r.GetValue(0).ToString()!);
        return rows;
    }

    private static string? Meta(string db, string key)
    {
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = db, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT value FROM meta WHERE key=$k";
        cmd.Parameters.AddWithValue("$k", key);
        return cmd.ExecuteScalar() as string;
    }

    private static void WaitFor(Func<bool> condition, TimeSpan timeout, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > timeout) Assert.Fail($"gave up waiting for {what} after {timeout.TotalSeconds} s");
            Thread.Sleep(10);
        }
    }

    private static void Kill9(int pid)
    {
        using var p = Process.GetProcessById(pid);
        p.Kill(); // SIGKILL on Linux
        p.WaitForExit(10_000);
    }

    [RootFact]
    public void DaemonKilledInTheMiddleOfADump_KeepsEveryCompletedDump()
    {
        var dir = Cli.NewSessionDir();
        var trigger = Path.Combine(Path.GetTempPath(), "xenoprof-pause-" + Guid.NewGuid().ToString("N")[..10]);
        string[] hooked = ["/usr/bin/env", "XENPROF_TEST_PAUSE_BEFORE_COMMIT=" + trigger];
        Process? workload = null;
        try
        {
            Assert.Equal(0, Cli.RunAs(hooked, "opcontrol", "--session-dir", dir, "--start-daemon", "--callgraph=16").ExitCode);
            Assert.Equal(0, Cli.Run("opcontrol", "--session-dir", dir, "-s").ExitCode);
            using (var w = Process.Start(Cli.Workload, "1")) w.WaitForExit();
            Assert.Equal(0, Cli.Run("opcontrol", "--session-dir", dir, "-d").ExitCode);
            long dumped = Total(Cli.Run("opreport", "-l", "--session-dir", dir).Stdout);
            Assert.True(dumped > 100, $"the completed dump holds {dumped} samples");

            // Arm the hook while samples keep coming: the daemon's next commit (its own, every second) stops half-way.
            workload = Process.Start(Cli.Workload, "20");
            File.WriteAllText(trigger, "");
            WaitFor(() => File.Exists(trigger + ".paused"), TimeSpan.FromSeconds(30), "the daemon to reach the held commit");
            int pid = int.Parse(File.ReadAllText(trigger + ".paused"));
            var db = Path.Combine(dir, "samples.db");
            long committed = long.Parse(Meta(db, "sample_log_bytes")!);
            long written = new FileInfo(db + "-samples").Length;
            output.WriteLine($"held commit: sample log {written} bytes, committed {committed}");
            Assert.True(written > committed, $"the held dump had written no samples past the commit ({written} <= {committed})");
            Kill9(pid);

            var rep = Cli.Run("opreport", "-l", "--session-dir", dir);
            Assert.Equal(0, rep.ExitCode);
            long after = Total(rep.Stdout);
            output.WriteLine($"after kill -9: {after} samples (completed dump: {dumped})");
            Assert.True(after >= dumped, $"after kill -9: {after} < {dumped} samples of the completed dump");
            Assert.Equal(committed / 48, after); // 48-byte sample records (schema v5: with their period)
            Assert.Equal("ok", IntegrityCheck(db));

            // A restarted daemon keeps them and cuts the uncommitted tail off the log.
            var again = Cli.Run("opcontrol", "--session-dir", dir, "--start-daemon");
            output.WriteLine(again.Stdout + again.Stderr);
            Assert.Equal(0, again.ExitCode);
            Assert.Contains($"Session holds {after} samples", again.Stdout);
            Assert.Equal(committed, new FileInfo(db + "-samples").Length);
            Assert.Equal(0, Cli.Run("opcontrol", "--session-dir", dir, "-h").ExitCode);
            Assert.Equal(after, Total(Cli.Run("opreport", "-l", "--session-dir", dir).Stdout));
            Assert.Equal("ok", IntegrityCheck(db));
        }
        finally
        {
            if (workload is { HasExited: false }) workload.Kill();
            workload?.Dispose();
            File.Delete(trigger);
            File.Delete(trigger + ".paused");
            Cli.Run("opcontrol", "--session-dir", dir, "--shutdown");
            if (DaemonLauncherPid(dir) is { } stale) try { Kill9(stale); } catch (ArgumentException) { }
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    private static int? DaemonLauncherPid(string dir)
    {
        var f = Path.Combine(dir, "daemon.pid");
        return File.Exists(f) && int.TryParse(File.ReadAllText(f).Trim(), out var p) && Directory.Exists($"/proc/{p}") ? p : null;
    }

    /// <summary>A perf.data of the built-in workload big enough that importing it takes a while: 20 kHz, callchains, 3 s.</summary>
    private static string RecordLarge(string dir)
    {
        var data = Path.Combine(dir, "large.data");
        var rec = PerfImportComparisonTests.Sh($"perf record -g -F 20000 -o {data} -- {Cli.Workload} 3");
        Assert.True(rec.Code == 0, $"perf record failed: {rec.Err}");
        return data;
    }

    /// <summary>Starts a verb that imports, and kill -9s it once it has written some samples into <paramref name="store"/>'s log, before it finished.</summary>
    private void KillWhileImporting(string store, params string[] args)
    {
        using var p = Cli.Start(null, args);
        WaitFor(() => p.HasExited || (File.Exists(store + "-samples") && new FileInfo(store + "-samples").Length > 0), TimeSpan.FromSeconds(60), "the import to write samples");
        Assert.False(p.HasExited, "the import finished before it could be killed; record a larger file");
        output.WriteLine($"killed {string.Join(' ', args)} with {new FileInfo(store + "-samples").Length} bytes in the sample log");
        p.Kill();
        p.WaitForExit();
    }

    [PerfFact]
    public void ImportKilledWhileWriting_SaysSo_AndARerunImportsEverything()
    {
        var root = Directory.CreateTempSubdirectory("xenoprof-crash-import-").FullName;
        try
        {
            var data = RecordLarge(root);
            var clean = Path.Combine(root, "clean");
            Assert.Equal(0, Cli.Run("import", "--session-dir", clean, data).ExitCode);
            long full = Total(Cli.Run("opreport", "-l", "--session-dir", clean).Stdout);
            output.WriteLine($"full import: {full} samples");

            var dir = Path.Combine(root, "killed");
            var store = Path.Combine(dir, "samples.db");
            KillWhileImporting(store, "import", "--session-dir", dir, data);
            Assert.Equal("ok", IntegrityCheck(store));
            var partial = Cli.Run("opreport", "-l", "--session-dir", dir);
            Assert.Equal(0, partial.ExitCode);
            Assert.Contains("Import incomplete: the import of " + data + " did not finish", partial.Stdout);
            Assert.True(Total(partial.Stdout) < full);

            Assert.Equal(0, Cli.Run("import", "--session-dir", dir, data).ExitCode);
            var redone = Cli.Run("opreport", "-l", "--session-dir", dir);
            Assert.DoesNotContain("Import incomplete", redone.Stdout);
            Assert.Equal(full, Total(redone.Stdout));
            Assert.Equal("ok", IntegrityCheck(store));

            // opreport FILE's cache beside the file, killed while it is built: the next report rebuilds it, never uses it.
            var cached = data + ".xenoprof/samples.db";
            KillWhileImporting(cached, "opreport", "-l", data);
            Assert.Equal("ok", IntegrityCheck(cached));
            var direct = Cli.Run("opreport", "-l", data);
            Assert.Equal(0, direct.ExitCode);
            Assert.DoesNotContain("Import incomplete", direct.Stdout);
            Assert.Equal(full, Total(direct.Stdout));
        }
        finally
        {
            try { Directory.Delete(root, true); } catch (IOException) { }
        }
    }
}

/// <summary>A fact that runs perf record: needs root (CI runs as root), perf and the built-in workload; elsewhere skipped with the reason.</summary>
public sealed class PerfFactAttribute : FactAttribute
{
    public PerfFactAttribute()
    {
        if (!Environment.IsPrivilegedProcess) Skip = "needs root to run perf record (CI runs as root)";
        else if (!File.Exists(Cli.Workload)) Skip = $"the built-in workload {Cli.Workload} was not built (gcc missing)";
        else if (!PerfImportComparisonTests.PerfWorks) Skip = "perf is not installed or does not run here (apt-get install linux-perf)";
    }
}
