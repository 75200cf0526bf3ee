using System.CommandLine;
using XenProf.Cli.Options;
using XenProf.Sampler.Session;

namespace XenProf.Cli.Commands;

/// <summary>
/// <c>xenoprof opcontrol</c>: drives a session's background daemon as oprofile's opcontrol did.
/// Actions run in lifecycle order whatever their order on the line: <c>--reset</c>, <c>--start-daemon</c>,
/// <c>--start</c>, <c>--dump</c>, <c>--stop</c>, <c>--shutdown</c>, <c>--status</c>.
/// </summary>
internal static class OpcontrolCommand
{
    public static Command Create()
    {
        var dir = CommonOptions.SessionDir();
        var ev = CommonOptions.Event();
        var callgraph = new Option<int>("--callgraph", "-c") { Description = "Record callchains up to this depth (0 = none)" };
        var reset = new Option<bool>("--reset") { Description = "Clear the session's samples" };
        var startDaemon = new Option<bool>("--start-daemon") { Description = "Start the profiler daemon (events open, not yet counting)" };
        var start = new Option<bool>("--start", "-s") { Description = "Start profiling (starts the daemon first if needed)" };
        var dump = new Option<bool>("--dump") { Description = "Flush collected samples into the session store" };
        var stop = new Option<bool>("--stop", "-t") { Description = "Stop profiling (the daemon keeps running)" };
        var shutdown = new Option<bool>("--shutdown", "-h") { Description = "Stop profiling and end the daemon" };
        var status = new Option<bool>("--status") { Description = "Show the daemon's state" };
        var cmd = new Command("opcontrol", "Control a background profiling session (opcontrol-style)")
        {
            dir, ev, callgraph, reset, startDaemon, start, dump, stop, shutdown, status, Run.Verbose,
        };
        var xen = new XenOptions();
        xen.AddTo(cmd);
        cmd.SetAction(pr => Run.Guarded("opcontrol", pr.GetValue(Run.Verbose), ct => Execute(
            new SessionDirectory(pr.GetValue(dir)!),
            xen.Apply(pr, new SessionConfig { Events = CommonOptions.SplitEvents(pr.GetValue(ev)).ToList(), CallgraphDepth = pr.GetValue(callgraph), SystemWide = true }),
            new Actions(pr.GetValue(reset), pr.GetValue(startDaemon), pr.GetValue(start), pr.GetValue(dump), pr.GetValue(stop), pr.GetValue(shutdown), pr.GetValue(status)),
            Console.Out)));
        return cmd;
    }

    /// <summary>The actions asked for on one command line.</summary>
    public sealed record Actions(bool Reset, bool StartDaemon, bool Start, bool Dump, bool Stop, bool Shutdown, bool Status);

    /// <summary>Performs <paramref name="a"/> on session <paramref name="dir"/>, printing what happened to <paramref name="stdout"/>.</summary>
    public static int Execute(SessionDirectory dir, SessionConfig config, Actions a, TextWriter stdout)
    {
        if (a == new Actions(false, false, false, false, false, false, false))
            throw new UserErrorException("no action given; use --start-daemon, --start, --stop, --dump, --status, --shutdown or --reset");
        if (a.Reset)
        {
            if (DaemonLauncher.IsRunning(dir)) Say(stdout, DaemonLauncher.Send(dir, "reset"));
            else
            {
                foreach (var f in new[] { dir.StorePath, dir.StorePath + "-wal", dir.StorePath + "-shm" }) if (File.Exists(f)) File.Delete(f);
                stdout.WriteLine("session reset: samples removed");
            }
        }
        if (a.StartDaemon || (a.Start && !DaemonLauncher.IsRunning(dir)))
        {
            var pid = DaemonLauncher.Start(dir, config, DaemonCommandLine(dir), TimeSpan.FromSeconds(30));
            stdout.WriteLine($"Daemon started: pid {pid}, session-dir {dir.Path}");
        }
        if (a.Start) Say(stdout, DaemonLauncher.Send(dir, "start"));
        if (a.Dump) Say(stdout, DaemonLauncher.Send(dir, "dump"));
        if (a.Stop) Say(stdout, DaemonLauncher.Send(dir, "stop"));
        if (a.Shutdown)
        {
            var pid = DaemonLauncher.ReadPid(dir);
            Say(stdout, DaemonLauncher.Send(dir, "shutdown"));
            DaemonLauncher.WaitForExit(dir, pid, TimeSpan.FromSeconds(30));
        }
        if (a.Status)
        {
            if (DaemonLauncher.IsRunning(dir)) Say(stdout, DaemonLauncher.Send(dir, "status"));
            else stdout.WriteLine($"Daemon not running\nSession-dir: {dir.Path}");
        }
        return 0;
    }

    private static void Say(TextWriter stdout, (bool Ok, string Reply) r)
    {
        if (!r.Ok) throw new UserErrorException("daemon: " + r.Reply);
        stdout.WriteLine(r.Reply);
    }

    /// <summary>The command line that runs this program's hidden <c>daemon</c> verb on <paramref name="dir"/>.</summary>
    internal static IReadOnlyList<string> DaemonCommandLine(SessionDirectory dir)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this program's path");
        var list = new List<string> { self };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") list.Add(typeof(OpcontrolCommand).Assembly.Location);
        list.AddRange(["daemon", "--session-dir", dir.Path]);
        return list;
    }
}
