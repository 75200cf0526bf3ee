using System.CommandLine;
using System.Net;
using XenProf.Cli.Options;
using XenProf.Cli.Serve;
using XenProf.Reporter.Web;

namespace XenProf.Cli.Commands;

/// <summary><c>xenoprof serve</c>: the session as an interactive report in the browser, as <c>pprof -http</c> serves one.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var dir = CommonOptions.SessionDir();
        var target = new Argument<string[]>("session-or-trace")
        {
            Description = "A session directory, or a trace (perf.data, perf script text, .nettrace; imported once into FILE.xenoprof/), or session:NAME; default: --session-dir. "
                + "Or two, { BASE } { NEW }, for a differential report (as opreport { BASE } { NEW })",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var port = new Option<int>("--port") { Description = "TCP port (default 0: a free port, printed)" };
        var listen = new Option<string>("--listen") { Description = "Address to listen on (default 127.0.0.1, this machine only); another address exposes the profile to the network, token-protected", DefaultValueFactory = _ => "127.0.0.1" };
        var open = new Option<bool>("--open") { Description = "Open the report in the default browser (xdg-open)" };
        var kallsyms = CommonOptions.Kallsyms();
        var cmd = new Command("serve", "Serve the session as an interactive report (top table, flame graph, call graph, disassembly, timeline) on http://127.0.0.1")
        {
            target, dir, port, listen, open, kallsyms, Run.Verbose,
        };
        cmd.SetAction(pr => Run.Guarded("serve", pr.GetValue(Run.Verbose), ct =>
        {
            if (!IPAddress.TryParse(pr.GetValue(listen), out var address))
                throw new UserErrorException($"--listen {pr.GetValue(listen)}: expected an IP address (127.0.0.1, 0.0.0.0, ::1…)");
            if (pr.GetValue(port) is < 0 or > 65535) throw new UserErrorException($"--port {pr.GetValue(port)}: expected 0 to 65535");
            var tokens = pr.GetValue(target) ?? [];
            string Resolve(string? t) => t != null && Directory.Exists(t) ? t : DirectTrace.SessionFor("serve", t, pr.GetValue(dir)!, pr.GetValue(kallsyms), ct);
            var session = ProfileGroups.Parse(tokens) is var (b, n)
                ? new WebSession(Resolve(Whole(b)), Resolve(Whole(n)), b.Source, n.Source)
                : new WebSession(Resolve(ProfileGroups.OneSource(tokens)));
            return Execute(session, address, pr.GetValue(port), pr.GetValue(open), Console.Out, Console.Error, ct);
        }));
        return cmd;
    }

    /// <summary>A differential side's source; the web report compares whole sessions, so terms are refused.</summary>
    internal static string Whole(ProfileGroup g) => g.Terms.Count == 0 ? g.Source
        : throw new UserErrorException($"{{ {g} }}: the browser report compares whole sessions; drop '{g.Terms[0]}' (opreport {{ }} {{ }} takes terms)");

    /// <summary>Serves <paramref name="session"/> (disposed at the end) until <paramref name="ct"/> is cancelled (Ctrl-C, SIGTERM); prints the URL to <paramref name="stdout"/>.</summary>
    public static int Execute(WebSession session, IPAddress address, int port, bool open, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        using var _ = session;
        session.Summary(new WebQuery()); // build once now: a broken store fails here, not in the browser
        // and the first page's slowest views of a big session: its flame graph, timeline and top table (the page's defaults)
        session.Flame(new WebQuery());
        session.Timeline(new WebQuery(), "domain", 200);
        if (!session.IsDiff) session.Top(new WebQuery(), "symbol");
        var server = WebServer.StartAsync(session, address, port, ct).GetAwaiter().GetResult();
        try
        {
            if (!IPAddress.IsLoopback(address))
                stderr.WriteLine($"xenoprof serve: warning: listening on {address}, not only this machine: anyone who can reach it and has the URL's token can read this profile");
            stdout.WriteLine(server.Url);
            stdout.Flush();
            stderr.WriteLine($"xenoprof serve: serving {session.Path}; Ctrl-C stops");
            if (open) OpenBrowser(server.Url, stderr);
            // The first event's window series, made while the user looks at the first page, so that a brushed window is
            // answered at once (the page asks /api/window, which waits for this build if it is not done).
            // A failure here is answered to the page when it asks.
            if (!session.IsDiff) Task.Run(() => session.WindowSeries(new WebQuery()));
            ct.WaitHandle.WaitOne();
        }
        finally { server.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        return 0;
    }

    private static void OpenBrowser(Uri url, TextWriter stderr)
    {
        try { System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("xdg-open", url.ToString()) { UseShellExecute = false })?.Dispose(); }
        catch (System.ComponentModel.Win32Exception e) { stderr.WriteLine($"xenoprof serve: warning: --open: cannot start xdg-open ({e.Message}); open the URL yourself"); }
    }
}
