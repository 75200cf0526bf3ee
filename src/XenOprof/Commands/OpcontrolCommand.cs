using System.CommandLine;
using XenProf.Cli.Options;
using XenProf.Sampler.Session;

namespace XenProf.Cli.Commands;

/// <summary>
/// <c>xenoprof opcontrol</c>: drives a session's background daemon as oprofile's opcontrol did.
/// Short flags are opcontrol's: <c>-s</c> start, <c>-d</c> dump, <c>-t</c> stop, <c>-h</c> shutdown, <c>-e</c> event,
/// <c>-c</c> callgraph, <c>-p</c> separate; help is <c>--help</c> or <c>-?</c>.
/// Actions run in lifecycle order whatever their order on the line: <c>--save</c>, <c>--reset</c>, <c>--start-daemon</c>,
/// <c>--start</c>, <c>--dump</c>, <c>--stop</c>, <c>--shutdown</c>, <c>--status</c>.
/// </summary>
internal static class OpcontrolCommand
{
    public static Command Create()
    {
        var dir = CommonOptions.SessionDir();
        var group = CommonOptions.Group();
        var ev = CommonOptions.Event();
        var callgraph = new Option<int>("--callgraph", "-c") { Description = "Record callchains up to this depth (0 = none)" };
        var reset = new Option<bool>("--reset") { Description = "Clear the session's samples" };
        var save = new Option<string?>("--save") { Description = "Archive the current samples as session NAME (read with 'opreport session:NAME') and clear them", HelpName = "NAME" };
        var startDaemon = new Option<bool>("--start-daemon") { Description = "Start the profiler daemon (events open, not yet counting); samples already in the session are kept and added to" };
        var start = new Option<bool>("--start", "-s") { Description = "Start profiling (starts the daemon first if needed)" };
        var dump = new Option<bool>("--dump", "-d") { Description = "Flush collected samples into the session store" };
        var stop = new Option<bool>("--stop", "-t") { Description = "Stop profiling (the daemon keeps running)" };
        var shutdown = new Option<bool>("--shutdown", "-h") { Description = "Stop profiling and end the daemon" };
        var status = new Option<bool>("--status") { Description = "Show the daemon's state" };
        var separate = CommonOptions.Separate("What opreport keeps apart by default (samples always keep pid, tid and cpu): lib (libraries per application), kernel (kernel and modules too; implies lib), thread, cpu, all or none (the default); opreport --merge/--separate override it");
        var clickhouse = FleetOptions.ClickHouse();
        clickhouse.Description = "With --start-daemon: stream the session into this ClickHouse server as the daemon dumps (at least every 10 s while profiling, and at each --dump, --stop and --shutdown), e.g. http://127.0.0.1:8123/";
        var database = new Option<string?>("--database") { Description = $"With --clickhouse: the database (default {XenProf.Sampler.Fleet.FleetSchema.DefaultDatabase}; created when missing)" };
        var hostName = new Option<string?>("--host-name") { Description = "With --clickhouse: the host name the session is reported under (default: this machine's)" };
        var cmd = new Command("opcontrol", "Control a background profiling session (opcontrol-style)")
        {
            dir, group, ev, callgraph, separate, reset, save, startDaemon, start, dump, stop, shutdown, status, clickhouse, database, hostName, Run.Verbose,
        };
        var xen = new XenOptions();
        xen.AddTo(cmd);
        cmd.SetAction(pr => Run.Guarded("opcontrol", pr.GetValue(Run.Verbose), ct => Execute(
            CommonOptions.Session(pr.GetValue(dir)!, pr.GetValue(group)),
            xen.Apply(pr, new SessionConfig
            {
                Events = CommonOptions.SplitEvents(pr.GetValue(ev)).ToList(), CallgraphDepth = pr.GetValue(callgraph), SystemWide = true, Group = pr.GetValue(group),
                Separate = CommonOptions.CheckSeparate(pr.GetValue(separate)),
                ClickHouse = pr.GetValue(clickhouse), ClickHouseDatabase = pr.GetValue(database), ClickHouseHostName = pr.GetValue(hostName),
            }),
            new Actions(pr.GetValue(reset), pr.GetValue(startDaemon), pr.GetValue(start), pr.GetValue(dump), pr.GetValue(stop), pr.GetValue(shutdown), pr.GetValue(status)) { Save = pr.GetValue(save) },
            Console.Out)));
        return cmd;
    }

    /// <summary>The actions asked for on one command line.</summary>
    public sealed record Actions(bool Reset, bool StartDaemon, bool Start, bool Dump, bool Stop, bool Shutdown, bool Status)
    {
        /// <summary><c>--save=NAME</c>: archive the current samples under this name, or null.</summary>
        public string? Save { get; init; }
    }

    /// <summary>Performs <paramref name="a"/> on session <paramref name="dir"/>, printing what happened to <paramref name="stdout"/>.</summary>
    public static int Execute(SessionDirectory dir, SessionConfig config, Actions a, TextWriter stdout)
    {
        if (a == new Actions(false, false, false, false, false, false, false))
            throw new UserErrorException("no action given; use --start-daemon, --start, --stop, --dump, --save=NAME, --status, --shutdown or --reset");
        if (a.Save != null && !a.Reset)
        {
            if (DaemonLauncher.IsRunning(dir)) Say(stdout, DaemonLauncher.Send(dir, "save " + a.Save));
            else stdout.WriteLine(SessionArchive.Save(dir, a.Save));
        }
        if (a.Reset)
        {
            if (DaemonLauncher.IsRunning(dir)) Say(stdout, DaemonLauncher.Send(dir, "reset"));
            else
            {
                dir.DeleteSamples();
                stdout.WriteLine("session reset: samples removed");
            }
        }
        if ((config.ClickHouse == null) && (config.ClickHouseDatabase != null || config.ClickHouseHostName != null))
            throw new UserErrorException("--database and --host-name name where --clickhouse URL streams the session; give --clickhouse too");
        if (config.ClickHouse != null && !a.StartDaemon && !(a.Start && !DaemonLauncher.IsRunning(dir)))
            throw new UserErrorException("--clickhouse is taken when the daemon starts (--start-daemon); the running daemon keeps its own");
        if (a.StartDaemon || (a.Start && !DaemonLauncher.IsRunning(dir)))
        {
            if (config.ClickHouse != null) CheckFleet(config);
            long existing = dir.StoredSamples();
            var pid = DaemonLauncher.Start(dir, config, DaemonCommandLine(dir), TimeSpan.FromSeconds(30));
            stdout.WriteLine($"Daemon started: pid {pid}, session-dir {dir.Path}");
            if (existing > 0)
                stdout.WriteLine($"Session holds {existing} samples from earlier runs: new samples are added to them (--reset clears, --save=NAME archives)");
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
            else stdout.WriteLine($"Daemon not running\nSession-dir: {dir.Path}\nSamples: {dir.StoredSamples()}");
        }
        return 0;
    }

    /// <summary>Before the daemon starts: the fleet database's URL and name are valid and the server answers (a one-line error else).</summary>
    private static void CheckFleet(SessionConfig config)
    {
        var db = XenProf.Sampler.Fleet.FleetSchema.CheckDatabaseName(config.ClickHouseDatabase ?? XenProf.Sampler.Fleet.FleetSchema.DefaultDatabase);
        using var ch = new XenProf.Sampler.Fleet.ClickHouseHttp(config.ClickHouse!);
        XenProf.Sampler.Fleet.FleetSchema.EnsureCreated(ch, db);
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
