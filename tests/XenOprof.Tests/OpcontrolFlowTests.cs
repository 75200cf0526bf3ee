using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>The opcontrol flow driven as separate processes: the daemon outlives each command that talks to it.</summary>
public sealed class OpcontrolFlowTests(ITestOutputHelper output)
{
    [RootFact]
    public void StartDaemon_Start_Workload_Dump_Report_Stop_Shutdown()
    {
        var dir = Cli.NewSessionDir();
        try
        {
            var sd = Cli.Run("opcontrol", "--session-dir", dir, "--start-daemon", "--callgraph=16");
            output.WriteLine(sd.Stdout + sd.Stderr);
            Assert.Equal(0, sd.ExitCode);
            Assert.Contains("Daemon started", sd.Stdout);
            var mode = File.GetUnixFileMode(Path.Combine(dir, "daemon.sock"));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);

            var again = Cli.Run("opcontrol", "--session-dir", dir, "--start-daemon");
            Assert.Equal(1, again.ExitCode);
            Assert.Contains("already running", again.Stderr);
            Assert.Single(again.Stderr.Trim().Split('\n'));

            Assert.Equal(0, Cli.Run("opcontrol", "--session-dir", dir, "--start").ExitCode);
            using (var w = Process.Start(Cli.Workload, "2")) w.WaitForExit();
            var dump = Cli.Run("opcontrol", "--session-dir", dir, "--dump");
            Assert.Equal(0, dump.ExitCode);

            // Report while the daemon is still sampling.
            var rep = Cli.Run("opreport", "-l", "--session-dir", dir);
            output.WriteLine(rep.Stdout);
            Assert.Equal(0, rep.ExitCode);
            var hot = Cli.ParseSymbols(rep.Stdout).Where(r => r.Image == "hotloop").ToList();
            long total = hot.Sum(r => r.Samples);
            double Share(string sym) => 100.0 * hot.Where(r => r.Symbol == sym).Sum(r => r.Samples) / total;
            Assert.InRange(Share("hot_sixty"), 53, 67);
            Assert.InRange(Share("hot_thirty"), 23, 37);
            Assert.InRange(Share("hot_ten"), 3, 17);

            var status = Cli.Run("opcontrol", "--session-dir", dir, "--status");
            Assert.Contains("Profiling: running", status.Stdout);
            Assert.Equal(0, Cli.Run("opcontrol", "--session-dir", dir, "--stop").ExitCode);
            Assert.Equal(0, Cli.Run("opcontrol", "--session-dir", dir, "--shutdown").ExitCode);
            Assert.Contains("Daemon not running", Cli.Run("opcontrol", "--session-dir", dir, "--status").Stdout);
            Assert.False(File.Exists(Path.Combine(dir, "daemon.sock")));
        }
        finally
        {
            Cli.Run("opcontrol", "--session-dir", dir, "--shutdown");
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }
}
