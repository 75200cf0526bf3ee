using System.CommandLine;
using XenProf.Cli.Options;
using XenProf.Sampler.Session;

namespace XenProf.Cli.Commands;

/// <summary><c>xenoprof daemon</c> (hidden): the opcontrol daemon process itself, started by <c>opcontrol --start-daemon</c>.</summary>
internal static class DaemonCommand
{
    public static Command Create()
    {
        var dir = CommonOptions.SessionDir();
        var cmd = new Command("daemon", "Run the profiler daemon of a session in the foreground (started by opcontrol --start-daemon)")
        {
            dir, Run.Verbose,
        };
        cmd.Hidden = true;
        cmd.SetAction(pr => Run.Guarded("daemon", pr.GetValue(Run.Verbose), ct =>
        {
            var path = pr.GetValue(dir)!;
            var session = CommonOptions.Session(path, new SessionDirectory(path).ReadConfig().Group);
            return Daemon.Run(session, ct, Console.Out, config => config.Hypervisor != null
                ? XenProf.Sampler.Xenoprof.XenDaemonProfilers.Open(session, config, XenProf.Reporter.Symbols.ImageSymbolTable.Open, Console.Out)
                : LiveProfiler.Open(session, config, ProfilerTarget.SystemWide, append: true, Console.Out),
                config => config.ClickHouse != null
                    ? new XenProf.Reporter.Profile.FleetStream(session.Path, config.ClickHouse, config.ClickHouseDatabase, config.ClickHouseHostName, Console.Out)
                    : null);
        }));
        return cmd;
    }
}
