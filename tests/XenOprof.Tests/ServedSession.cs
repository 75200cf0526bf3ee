using System.Diagnostics;
using Xunit;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// A recording of the built-in workload with callchains, served by a running <c>xenoprof serve DIR --port 0</c>
/// (started on first use, stopped and deleted with the fixture). Its first stdout line is the URL with the token.
/// </summary>
public sealed class ServedSession : IDisposable
{
    private readonly Lazy<(string Dir, Process Server, Uri Url)> _served;

    public ServedSession() => _served = new(Start);

    /// <summary>The session directory.</summary>
    public string Dir => _served.Value.Dir;

    /// <summary>The printed URL (<c>http://127.0.0.1:PORT/?token=…</c>).</summary>
    public Uri Url => _served.Value.Url;

    /// <summary>The site's root without the token.</summary>
    public Uri Root => new(Url.GetLeftPart(UriPartial.Authority) + "/");

    /// <summary>The access token.</summary>
    public string Token => System.Web.HttpUtility.ParseQueryString(Url.Query)["token"]!;

    private static (string, Process, Uri) Start()
    {
        var dir = Cli.NewSessionDir();
        var rec = Cli.Run("record", "--session-dir", dir, "--callgraph");
        Assert.True(rec.ExitCode == 0, "record failed: " + rec.Stderr);
        var (server, url) = StartServer(dir);
        return (dir, server, url);
    }

    /// <summary>Starts <c>xenoprof serve DIR --port 0</c> (<paramref name="native"/>, else <c>XENOPROF_CLI</c>, else the build under test) and reads its URL.</summary>
    public static (Process Server, Uri Url) StartServer(string dir, string? native = null) => StartServer([dir], native);

    /// <summary>Starts <c>xenoprof serve ARGS… --port 0</c> (a differential report: <c>{ A } { B }</c>) and reads its URL.</summary>
    public static (Process Server, Uri Url) StartServer(string[] args, string? native = null)
    {
        native ??= Environment.GetEnvironmentVariable("XENOPROF_CLI") is { Length: > 0 } n ? n : null;
        var psi = new ProcessStartInfo(native ?? "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Path.GetTempPath() };
        if (native == null) psi.ArgumentList.Add(Path.Combine(Cli.BinDir, "xenoprof.dll"));
        foreach (var a in (string[])["serve", .. args, "--port", "0"]) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        p.ErrorDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        var line = p.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromMinutes(1)) || line.Result == null)
        {
            p.Kill(true);
            Assert.Fail("xenoprof serve printed no URL within a minute");
        }
        return (p, new Uri(line.Result!));
    }

    /// <summary>Stops a server this fixture or a test started.</summary>
    public static void Stop(Process server)
    {
        try { server.Kill(true); server.WaitForExit(10_000); } catch (InvalidOperationException) { }
        server.Dispose();
    }

    public void Dispose()
    {
        if (!_served.IsValueCreated) return;
        var (dir, server, _) = _served.Value;
        Stop(server);
        try { Directory.Delete(dir, true); } catch (IOException) { }
    }
}

/// <summary>A root fact (<see cref="RootFactAttribute"/>) that also needs Debian's chromium; skipped with the reason otherwise.</summary>
public sealed class ChromiumRootFactAttribute : FactAttribute
{
    public const string ChromiumPath = "/usr/bin/chromium";

    public ChromiumRootFactAttribute()
    {
        var root = new RootFactAttribute();
        if (root.Skip != null) Skip = root.Skip;
        else if (!File.Exists(ChromiumPath)) Skip = $"{ChromiumPath} is not installed (apt-get install -y chromium; tests/run.sh does)";
    }
}
