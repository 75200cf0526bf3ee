using System.Globalization;
using System.Net;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// <c>xenoprof serve</c> over plain HTTP on a real recording: the token gate (401 without, 403 wrong, the cookie after the
/// first visit), nothing outside the report (404), bad parameters as 400 with one line and no stack trace, and the JSON
/// views agreeing with <c>opreport -l</c> and <c>opreport -c</c>.
/// </summary>
[Collection(PerfCollection.Name)]
public sealed class ServeHttpTests(ServedSession served, ITestOutputHelper output) : IClassFixture<ServedSession>
{
    private static HttpClient Client(bool cookies = false) => new(new HttpClientHandler { UseCookies = cookies, CookieContainer = new CookieContainer(), AllowAutoRedirect = false });

    private async Task<(HttpStatusCode Status, string Body)> Get(HttpClient c, string pathAndQuery)
    {
        using var r = await c.GetAsync(new Uri(served.Root, pathAndQuery));
        var body = await r.Content.ReadAsStringAsync();
        output.WriteLine($"GET {pathAndQuery.Replace(served.Token, "TOKEN")} -> {(int)r.StatusCode} {body.Trim()[..Math.Min(200, body.Trim().Length)]}");
        return (r.StatusCode, body);
    }

    [RootFact]
    public async Task TokenIsRequired_AsQueryOrCookie()
    {
        using var plain = Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await Get(plain, "")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Get(plain, "api/summary")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Get(plain, "api/summary?token=0123")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Get(plain, "?token=" + new string('0', served.Token.Length))).Status);

        using var browser = Client(cookies: true);
        var page = await Get(browser, "?token=" + served.Token);
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Contains("<script src=\"app.js\">", page.Body);
        // After the first visit the cookie alone is enough.
        var summary = await Get(browser, "api/summary");
        Assert.Equal(HttpStatusCode.OK, summary.Status);
        Assert.Equal("CPU_CLOCK", JsonDocument.Parse(summary.Body).RootElement.GetProperty("events")[0].GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.OK, (await Get(browser, "app.js")).Status);
    }

    [RootFact]
    public async Task NothingOutsideTheReport_Is404_AndWritesAre405()
    {
        using var c = Client();
        string t = "token=" + served.Token;
        foreach (var path in new[] { "samples.db", "%2e%2e%2fetc%2fpasswd", "..%2F..%2Fetc%2Fpasswd", "kallsyms", "api/", "api/nope", "app.js/x", "/etc/passwd" })
        {
            var (status, body) = await Get(c, path + "?" + t);
            Assert.Equal(HttpStatusCode.NotFound, status);
            Assert.DoesNotContain("root:", body);
            Assert.DoesNotContain("SQLite", body);
        }
        using var post = await c.PostAsync(new Uri(served.Root, "api/summary?" + t), new StringContent(""));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }

    [RootFact]
    public async Task BadParameters_Are400_WithOneLineAndNoStackTrace()
    {
        using var c = Client();
        string t = "token=" + served.Token;
        foreach (var (query, names) in new[]
        {
            ("api/top?by=bogus", "by=bogus"), ("api/top?from=-5", "from=-5"), ("api/flame?from=abc", "from=abc"),
            ("api/summary?from=500&to=100", "to=100"), ("api/summary?event=7", "event=7"), ("api/timeline?buckets=0", "buckets=0"),
            ("api/timeline?by=pid", "by=pid"), ("api/callgraph", "fn"), ("api/annotate?event=x", "event=x"), ("api/window?event=7", "event=7"),
        })
        {
            var (status, body) = await Get(c, query + (query.Contains('?') ? "&" : "?") + t);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            var error = JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()!;
            Assert.StartsWith(names, error);
            Assert.DoesNotContain('\n', error);
            Assert.DoesNotContain(" at ", body);
            Assert.DoesNotContain("Exception", body);
        }
        var (missing, _) = await Get(c, "api/callgraph?fn=999%3Anope&" + t);
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal(HttpStatusCode.NotFound, (await Get(c, "api/window?fn=999%3Anope&" + t)).Item1);
        Assert.Equal(HttpStatusCode.OK, (await Get(c, "api/window?" + t)).Item1);
        var (notDiff, why) = await Get(c, "api/diff?" + t); // only serve { A } { B } has a differential table
        Assert.Equal(HttpStatusCode.NotFound, notDiff);
        Assert.Contains("not differential", why);
    }

    [RootFact]
    public async Task Views_AgreeWithOpreport()
    {
        using var c = Client();
        string t = "token=" + served.Token;
        var top = JsonDocument.Parse((await Get(c, "api/top?by=symbol&" + t)).Body).RootElement;
        var flat = Cli.ParseSymbols(Cli.Run("opreport", "-l", "--session-dir", served.Dir).Stdout);
        var all = top.GetProperty("rows").EnumerateArray().ToList();
        var rows = all.Where(r => r.GetProperty("self").GetInt64() > 0).ToList();
        Assert.Equal(flat.Select(r => (r.Samples, r.Image, r.Symbol)),
            rows.Select(r => (r.GetProperty("self").GetInt64(), r.GetProperty("image").GetString()!, r.GetProperty("name").GetString()!)));
        foreach (var (r, f) in rows.Zip(flat))
            Assert.Equal(f.Percent, Math.Round(r.GetProperty("selfPct").GetDouble(), 4));

        var blocks = CallgraphTests.ParseBlocks(Cli.Run("opreport", "-c", "--session-dir", served.Dir).Stdout);
        foreach (var name in new[] { "dispatch", "hot_sixty", "main" })
        {
            var row = all.Single(r => r.GetProperty("name").GetString() == name && r.GetProperty("image").GetString() == "hotloop");
            string fn = row.GetProperty("fn").GetString()!;
            var g = JsonDocument.Parse((await Get(c, "api/callgraph?fn=" + Uri.EscapeDataString(fn) + "&" + t)).Body).RootElement;
            var b = blocks.Single(x => x.Primary.Image == "hotloop" && x.Primary.Symbol == name);
            Assert.Equal(b.Primary.Samples, g.GetProperty("inclusive").GetInt64());
            Assert.Equal(b.Self.Samples, g.GetProperty("self").GetInt64());
            Assert.Equal((b.Self.Samples, b.Primary.Samples), (row.GetProperty("self").GetInt64(), row.GetProperty("total").GetInt64()));
            Assert.Equal(b.Callers.Select(l => (l.Samples, l.Symbol)).OrderBy(x => x), Arcs(g, "callers"));
            Assert.Equal(b.Callees.Select(l => (l.Samples, l.Symbol)).OrderBy(x => x), Arcs(g, "callees"));
        }

        // The timeline covers the whole session; a window's totals are the samples the timeline puts in it.
        var tl = JsonDocument.Parse((await Get(c, "api/timeline?by=domain&buckets=10&" + t)).Body).RootElement;
        long bucket = tl.GetProperty("bucketNs").GetInt64();
        long inFirstHalf = tl.GetProperty("series").EnumerateArray().Sum(s => s.GetProperty("counts").EnumerateArray().Take(5).Sum(x => x.GetInt64()));
        var window = JsonDocument.Parse((await Get(c, $"api/summary?from=0&to={5 * bucket}&" + t)).Body).RootElement;
        Assert.Equal(inFirstHalf, window.GetProperty("events")[0].GetProperty("total").GetInt64());
        Assert.InRange(inFirstHalf, 1, flat.Sum(r => r.Samples) - 1);
    }

    private static IEnumerable<(long, string)> Arcs(JsonElement g, string name) =>
        g.GetProperty(name).EnumerateArray().Select(a => (a.GetProperty("samples").GetInt64(), a.GetProperty("name").GetString()!)).OrderBy(x => x);

    /// <summary>The store changing under a running server (here a second record into the session) is seen by the next request.</summary>
    [RootFact]
    public async Task StoreChange_IsSeenByTheNextRequest()
    {
        var dir = Cli.NewSessionDir();
        var (server, url) = (default(System.Diagnostics.Process), default(Uri));
        try
        {
            Assert.Equal(0, Cli.Run("record", "--session-dir", dir, "--callgraph").ExitCode);
            (server, url) = ServedSession.StartServer(dir);
            using var c = Client();
            async Task<JsonElement> Summary() => JsonDocument.Parse(await c.GetStringAsync(new Uri(url, "api/summary" + url.Query))).RootElement;
            var before = await Summary();
            Assert.Equal(before.GetProperty("generation").GetInt64(), (await Summary()).GetProperty("generation").GetInt64()); // unchanged store: no rebuild

            Assert.Equal(0, Cli.Run("record", "--session-dir", dir, "--callgraph").ExitCode);
            var after = await Summary();
            long total = Cli.ParseSymbols(Cli.Run("opreport", "-l", "--session-dir", dir).Stdout).Sum(r => r.Samples);
            output.WriteLine($"generation {before.GetProperty("generation")} -> {after.GetProperty("generation")}, samples {before.GetProperty("events")[0].GetProperty("total")} -> {total}");
            Assert.NotEqual(before.GetProperty("generation").GetInt64(), after.GetProperty("generation").GetInt64());
            Assert.Equal(total, after.GetProperty("events")[0].GetProperty("total").GetInt64());

            // A port in use is a user error, with one line.
            var busy = Cli.Run("serve", dir, "--port", url.Port.ToString(CultureInfo.InvariantCulture));
            Assert.Equal(1, busy.ExitCode);
            Assert.StartsWith("xenoprof serve: --listen 127.0.0.1 --port " + url.Port + ": cannot listen there", busy.Stderr);
            Assert.Single(busy.Stderr.Trim().Split('\n'));
        }
        finally
        {
            if (server != null) ServedSession.Stop(server);
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    [Theory]
    [InlineData("--listen", "localhost", "--listen localhost: expected an IP address")]
    [InlineData("--port", "70000", "--port 70000: expected 0 to 65535")]
    public void BadOptions_AreUserErrors(string option, string value, string message)
    {
        var dir = Directory.CreateTempSubdirectory("xenprof-serve-").FullName;
        try
        {
            var r = Cli.Run("serve", dir, option, value);
            Assert.Equal(1, r.ExitCode);
            Assert.StartsWith("xenoprof serve: " + message, r.Stderr);
            Assert.Single(r.Stderr.Trim().Split('\n'));
            // A directory without a store is refused before anything listens.
            var empty = Cli.Run("serve", dir);
            Assert.Equal(1, empty.ExitCode);
            Assert.Contains("no session store", empty.Stderr);
            Assert.Single(empty.Stderr.Trim().Split('\n'));
            Assert.Equal("", empty.Stdout);
        }
        finally { Directory.Delete(dir, true); }
    }
}
