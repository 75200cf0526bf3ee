using System.CommandLine;
using XenProf.Cli.Options;
using XenProf.Reporter.Profile;
using XenProf.Sampler.Fleet;

namespace XenProf.Cli.Commands;

/// <summary><c>xenoprof push --clickhouse URL [SESSION-DIR|TRACE]</c>: copies a session into the fleet database, its frames named on this host.</summary>
internal static class PushCommand
{
    public static Command Create()
    {
        var url = FleetOptions.ClickHouse();
        url.Required = true;
        var database = FleetOptions.Database();
        var host = new Option<string?>("--host-name") { Description = "Host name the session is reported under (default: the host that recorded it)" };
        var batch = new Option<int>("--batch-size") { Description = "Rows per INSERT; an interrupted push, run again, sends only the batches missing (default 200000, at most 1000000)", DefaultValueFactory = _ => 200_000 };
        var source = new Argument<string?>("session")
        {
            Description = "Session directory, or a trace (perf.data, perf script text, .nettrace) reported through its cached import; default: --session-dir",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var dir = CommonOptions.SessionDir();
        var kallsyms = CommonOptions.Kallsyms();
        var cmd = new Command("push", "Copy a session (samples, stacks, images with build-ids, symbols resolved here) into ClickHouse; a second push adds nothing")
        {
            source, url, database, host, batch, dir, kallsyms, Run.Verbose,
        };
        cmd.SetAction(pr => Run.Guarded("push", pr.GetValue(Run.Verbose), ct =>
        {
            using var ch = new ClickHouseHttp(pr.GetValue(url)!); // a malformed URL is reported before any import
            var s = pr.GetValue(source);
            var session = s != null && Directory.Exists(s) ? s : DirectTrace.SessionFor("push", s, pr.GetValue(dir)!, pr.GetValue(kallsyms), ct);
            var options = new FleetPushOptions
            {
                Database = pr.GetValue(database)!, HostName = pr.GetValue(host), BatchRows = CheckBatch(pr.GetValue(batch)),
                BatchSent = pr.GetValue(Run.Verbose) ? (t, b, n) => Console.Error.WriteLine($"xenoprof push: {t} batch {b}: {n} rows") : null,
            };
            return Execute(session, ch, options, Console.Error, ct);
        }));
        return cmd;
    }

    private static int CheckBatch(int rows) =>
        rows is >= 1 and <= 1_000_000 ? rows : throw new UserErrorException($"--batch-size {rows}: expected 1 to 1000000 rows");

    /// <summary>Pushes <paramref name="sessionDir"/> to <paramref name="ch"/>; the summary goes to <paramref name="stderr"/>.</summary>
    public static int Execute(string sessionDir, ClickHouseHttp ch, FleetPushOptions options, TextWriter stderr, CancellationToken ct)
    {
        // Two pushers of one session at once would both send the batches neither has seen yet.
        var dir = new XenProf.Sampler.Session.SessionDirectory(sessionDir);
        if (File.Exists(dir.ConfigPath) && dir.ReadConfig().ClickHouse is { } streaming && XenProf.Sampler.Session.DaemonLauncher.IsRunning(dir))
        {
            using var target = new ClickHouseHttp(streaming);
            throw new UserErrorException($"{sessionDir}: its daemon streams it into {target.Url} already; push it after 'opcontrol --shutdown'");
        }
        var r = SessionPush.Push(sessionDir, ch, options, ct);
        stderr.WriteLine(r.AlreadyComplete
            ? $"xenoprof push: session {r.SessionId} (host {r.Host}) is already in {ch.Url} database {options.Database}: nothing added"
            : $"xenoprof push: session {r.SessionId} (host {r.Host}): {r.SamplesSent} of {r.Samples} samples sent in {r.BatchesSent} batches"
              + (r.BatchesSkipped > 0 ? $", {r.BatchesSkipped} batches already there from an earlier push" : "") + $" to {ch.Url} database {options.Database}");
        return 0;
    }
}
