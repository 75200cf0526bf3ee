using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// What a session keeps across daemon restarts, as oprofile's opcontrol keeps it: samples are appended until
/// <c>--reset</c>, <c>--save=NAME</c> archives them for <c>opreport session:NAME</c>, and the files are private.
/// </summary>
public sealed class SessionLifecycleTests(ITestOutputHelper output)
{
    private static long Total(string report) => Cli.ParseSymbols(report).Sum(r => r.Samples);

    private long Profile(string dir, double seconds)
    {
        Assert.Equal(0, Cli.Run("opcontrol", "--session-dir", dir, "-s").ExitCode);
        using (var w = Process.Start(Cli.Workload, seconds.ToString(System.Globalization.CultureInfo.InvariantCulture))) w.WaitForExit();
        var dump = Cli.Run("opcontrol", "--session-dir", dir, "-d");
        output.WriteLine(dump.Stdout + dump.Stderr);
        Assert.Equal(0, dump.ExitCode);
        var rep = Cli.Run("opreport", "-l", "--session-dir", dir);
        Assert.Equal(0, rep.ExitCode);
        return Total(rep.Stdout);
    }

    [RootFact]
    public void RestartAppends_KillAppends_SaveArchives_ResetClears()
    {
        var dir = Cli.NewSessionDir();
        try
        {
            Assert.Equal(0, Cli.Run("opcontrol", "--session-dir", dir, "--start-daemon").ExitCode);
            Profile(dir, 1);
            Assert.Equal(0, Cli.Run("opcontrol", "--session-dir", dir, "-h").ExitCode);
            long first = Total(Cli.Run("opreport", "-l", "--session-dir", dir).Stdout);
            Assert.True(first > 200, $"first run: {first} samples");

            // A restart after a clean shutdown keeps every sample and says so.
            var again = Cli.Run("opcontrol", "--session-dir", dir, "--start-daemon");
            output.WriteLine(again.Stdout);
            Assert.Equal(0, again.ExitCode);
            Assert.Contains($"Session holds {first} samples", again.Stdout);
            long second = Profile(dir, 1);
            Assert.True(second > first + 200, $"after restart: {second} samples, before {first}");

            // kill -9 of the daemon: what was dumped survives the next start.
            int pid = int.Parse(File.ReadAllText(Path.Combine(dir, "daemon.pid")));
            Process.GetProcessById(pid).Kill();
            Process.GetProcessById(pid).WaitForExit(10_000);
            var afterKill = Cli.Run("opcontrol", "--session-dir", dir, "--start-daemon");
            Assert.Equal(0, afterKill.ExitCode);
            Assert.Contains("Session holds", afterKill.Stdout);
            var rep = Cli.Run("opreport", "-l", "--session-dir", dir);
            Assert.True(Total(rep.Stdout) >= second, $"after kill -9: {Total(rep.Stdout)} < {second}");

            // --save archives what is there and clears it; session:NAME reads the archive.
            long beforeSave = Total(Cli.Run("opreport", "-l", "--session-dir", dir).Stdout);
            var save = Cli.Run("opcontrol", "--session-dir", dir, "--save=run1");
            output.WriteLine(save.Stdout + save.Stderr);
            Assert.Equal(0, save.ExitCode);
            var saved = Cli.Run("opreport", "-l", "--session-dir", dir, "session:run1");
            Assert.Equal(0, saved.ExitCode);
            Assert.Equal(beforeSave, Total(saved.Stdout));
            Assert.Contains("hot_sixty", saved.Stdout);
            Assert.Equal(0, Total(Cli.Run("opreport", "-l", "--session-dir", dir).Stdout));
            var taken = Cli.Run("opcontrol", "--session-dir", dir, "--save=run1");
            Assert.Equal(1, taken.ExitCode);
            Assert.Contains("already exists", taken.Stderr);
            var missing = Cli.Run("opreport", "--session-dir", dir, "session:nosuch");
            Assert.Equal(1, missing.ExitCode);
            Assert.Contains("saved: run1", missing.Stderr);

            // --reset clears, with or without a daemon.
            Profile(dir, 0.5);
            Assert.Equal(0, Cli.Run("opcontrol", "--session-dir", dir, "-h").ExitCode);
            Assert.Equal(0, Cli.Run("opcontrol", "--session-dir", dir, "--reset").ExitCode);
            var fresh = Cli.Run("opcontrol", "--session-dir", dir, "--start-daemon");
            Assert.Equal(0, fresh.ExitCode);
            Assert.DoesNotContain("Session holds", fresh.Stdout);
            Assert.Equal(0, Cli.Run("opcontrol", "--session-dir", dir, "-h").ExitCode);
        }
        finally
        {
            Cli.Run("opcontrol", "--session-dir", dir, "--shutdown");
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    [Fact]
    public void StoreOfAnotherSchemaVersionIsRefusedNotOverwritten()
    {
        var dir = Cli.NewSessionDir();
        Directory.CreateDirectory(dir);
        var db = Path.Combine(dir, "samples.db");
        using (var c = new SqliteConnection($"Data Source={db};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('schema_version', '1');";
            cmd.ExecuteNonQuery();
        }
        var before = File.ReadAllBytes(db);
        try
        {
            var r = Cli.Run("opcontrol", "--session-dir", dir, "--start-daemon");
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("schema version 1", r.Stderr);
            Assert.Equal(before, File.ReadAllBytes(db));
        }
        finally
        {
            Cli.Run("opcontrol", "--session-dir", dir, "--shutdown");
            Directory.Delete(dir, true);
        }
    }

    [RootFact]
    public void SessionsArePrivate_AndRefusalsSayPermissionDenied()
    {
        var dir = Cli.NewSessionDir();
        try
        {
            var rec = Cli.Run("record", "--session-dir", dir, "--", Cli.Workload, "0.3");
            Assert.Equal(0, rec.ExitCode);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir));
            foreach (var f in Directory.GetFiles(dir))
                Assert.True((File.GetUnixFileMode(f) & (UnixFileMode)0x3F) == 0, $"{f} is {File.GetUnixFileMode(f)}");

            // A second record keeps the first run as session:previous, as operf keeps samples/previous.
            var rec2 = Cli.Run("record", "--session-dir", dir, "--", Cli.Workload, "0.3");
            Assert.Contains("moved to session:previous", rec2.Stderr);
            Assert.True(Total(Cli.Run("opreport", "-l", "--session-dir", dir, "session:previous").Stdout) > 0);

            Assert.Equal(0, Cli.Run("opcontrol", "--session-dir", dir, "--start-daemon").ExitCode);
            if (!File.Exists("/usr/bin/setpriv")) { output.WriteLine("skipped the other-user half: no setpriv"); return; }
            string[] nobody = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=/tmp", "DOTNET_CLI_HOME=/tmp"];
            var status = Cli.RunAs(nobody, "opcontrol", "--session-dir", dir, "--status");
            output.WriteLine(status.Stdout + status.Stderr);
            Assert.Equal(1, status.ExitCode);
            Assert.Contains("permission denied", status.Stderr);
            Assert.Contains("owned by root (mode 0700)", status.Stderr);
            var report = Cli.RunAs(nobody, "opreport", "--session-dir", dir);
            Assert.NotEqual(0, report.ExitCode);
            Assert.DoesNotContain("hot_sixty", report.Stdout);

            // Open the directory to others: the socket itself still refuses.
            File.SetUnixFileMode(dir, (UnixFileMode)0x1ED); // 0755
            var sock = Cli.RunAs(nobody, "opcontrol", "--session-dir", dir, "--status");
            Assert.Equal(1, sock.ExitCode);
            Assert.Contains("daemon.sock is owned by root (mode 0600)", sock.Stderr);
        }
        finally
        {
            Cli.Run("opcontrol", "--session-dir", dir, "--shutdown");
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }
}
