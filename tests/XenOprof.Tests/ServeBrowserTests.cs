using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// The served report in a real browser (Debian's chromium driven by Playwright, never a downloaded one) on a real
/// recording of the built-in workload: the top table sorts, a selected function's callers and callees are
/// <c>opreport -c</c>'s, its disassembly carries <c>opannotate</c>'s per-instruction counts, and brushing a time range
/// changes every total. Screenshots go to <c>serve-screenshots/</c> in the test output folder.
/// </summary>
[Collection(PerfCollection.Name)]
public sealed class ServeBrowserTests(ServedSession served, ITestOutputHelper output) : ReportBrowserTests(output), IClassFixture<ServedSession>
{
    protected override string Url => served.Url.ToString();

    protected override string SessionDir => served.Dir;

    protected override string ShotPrefix => "";

    protected override bool Offline => false;

    protected override async Task<string> FunctionKey(string name)
    {
        using var c = new HttpClient();
        var top = JsonDocument.Parse(await c.GetStringAsync(new Uri(served.Root, "api/top?token=" + served.Token))).RootElement;
        return top.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("name").GetString() == name).GetProperty("fn").GetString()!;
    }
}

/// <summary>
/// The same checks on the offline file (<c>flame --format html</c>) of a recording of the built-in workload, opened as a
/// file:// URL with no server: the same page reading its embedded answers. A time window of whole buckets gives the
/// server's answers for that window, and a function outside the embedded ones says it is not in the file.
/// Screenshots: <c>offline-*.png</c>.
/// </summary>
[Collection(PerfCollection.Name)]
public sealed class OfflineBrowserTests(OfflineSession offline, ITestOutputHelper output) : ReportBrowserTests(output), IClassFixture<OfflineSession>
{
    protected override string Url => new Uri(offline.File).ToString();

    protected override string SessionDir => offline.Dir;

    protected override string ShotPrefix => "offline-";

    protected override bool Offline => true;

    protected override Task<string> FunctionKey(string name)
    {
        var top = JsonDocument.Parse(XenProf.Reporter.Web.OfflineReport.ReadData(File.ReadAllText(offline.File))!).RootElement.GetProperty("views").GetProperty("top").GetProperty("0:symbol");
        return Task.FromResult(top.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("name").GetString() == name).GetProperty("fn").GetString()!);
    }

    [RootFact]
    public void Html_RefusesSelectionsTheFileCannotHold()
    {
        foreach (var (args, flag) in new[] { (new[] { "--domain", "0" }, "--domain"), (["--from", "0.5", "--to", "1"], "--from/--to"), (["--event", "CPU_CLOCK"], "--event") })
        {
            var r = Cli.Run(["flame", "--session-dir", offline.Dir, "--format", "html", "-o", Path.Combine(Path.GetTempPath(), "never.html"), .. args]);
            Assert.Equal(1, r.ExitCode);
            Assert.StartsWith($"xenoprof flame: {flag}: the html report holds the whole session", r.Stderr.Trim());
            Assert.DoesNotContain(" at ", r.Stderr);
        }
    }

    [ChromiumRootFact]
    public async Task AFunctionNotEmbedded_SaysSo()
    {
        var (pw, browser, page) = await Open("#fn=" + Uri.EscapeDataString("999999:not_a_function"));
        using var _ = pw;
        await using var __ = browser;
        Assert.Contains("not embedded in the offline file", await page.TextContentAsync("#fn-facts"));
    }
}

/// <summary>
/// A recording of the built-in workload with callchains and its offline report, written by
/// <c>xenoprof flame --format html</c> (both deleted with the fixture).
/// </summary>
public sealed class OfflineSession : IDisposable
{
    private readonly Lazy<(string Dir, string File)> _made = new(() =>
    {
        var dir = Cli.NewSessionDir();
        var rec = Cli.Run("record", "--session-dir", dir, "--callgraph");
        Assert.True(rec.ExitCode == 0, "record failed: " + rec.Stderr);
        string file = Path.Combine(dir + "-report", "report.html");
        var r = Cli.Run("flame", "--session-dir", dir, "--format", "html", "-o", file);
        Assert.True(r.ExitCode == 0, "flame --format html failed: " + r.Stderr);
        return (dir, file);
    });

    /// <summary>The session directory.</summary>
    public string Dir => _made.Value.Dir;

    /// <summary>The offline report.</summary>
    public string File => _made.Value.File;

    public void Dispose()
    {
        if (!_made.IsValueCreated) return;
        foreach (var d in new[] { _made.Value.Dir, Path.GetDirectoryName(_made.Value.File)! })
            try { Directory.Delete(d, true); } catch (IOException) { }
    }
}

/// <summary>
/// The browser checks of the report, run on the served page and on the offline file alike: the top table sorts, a
/// selected function's callers and callees are <c>opreport -c</c>'s, its disassembly carries <c>opannotate</c>'s
/// per-instruction counts, brushing a time range changes every total, and a window of whole timeline buckets shows what
/// the server answers for that window (the page sums per-bucket series into it). Screenshots of each view go to <c>serve-screenshots/</c> in the test output folder.
/// </summary>
public abstract class ReportBrowserTests(ITestOutputHelper output)
{
    private static readonly string Shots = Path.Combine(AppContext.BaseDirectory, "serve-screenshots");

    /// <summary>The page's URL (served with its token, or file://).</summary>
    protected abstract string Url { get; }

    /// <summary>The session the page shows.</summary>
    protected abstract string SessionDir { get; }

    /// <summary>Prefix of this page's screenshot names.</summary>
    protected abstract string ShotPrefix { get; }

    /// <summary>Whether this is the offline file.</summary>
    protected abstract bool Offline { get; }

    /// <summary>The function key of symbol <paramref name="name"/>, as the top table's rows carry it.</summary>
    protected abstract Task<string> FunctionKey(string name);

    /// <summary>Requests the offline page made to anything but its own file and data: URLs (there must be none).</summary>
    protected List<string> Requests { get; } = [];

    protected async Task<(IPlaywright, IBrowser, IPage)> Open(string hash = "")
    {
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        var pw = await Playwright.CreateAsync();
        var browser = await pw.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumRootFactAttribute.ChromiumPath, Headless = true, Args = ["--no-sandbox", "--disable-gpu"],
        });
        // The offline file is checked under its own CSP meta tag: its script must run, and nothing may load from elsewhere.
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { BypassCSP = !Offline, ViewportSize = new ViewportSize { Width = 1400, Height = 1200 } });
        page.Console += (_, m) => output.WriteLine("console: " + m.Text);
        page.PageError += (_, e) => output.WriteLine("page error: " + e);
        if (Offline) page.Request += (_, r) => { if (!r.Url.StartsWith("file:", StringComparison.Ordinal) && !r.Url.StartsWith("data:", StringComparison.Ordinal)) lock (Requests) Requests.Add(r.Url); };
        await page.GotoAsync(Url + hash);
        await page.WaitForSelectorAsync("#top tbody tr");
        await Settled(page);
        return (pw, browser, page);
    }

    protected async Task Shot(IPage page, string name)
    {
        Directory.CreateDirectory(Shots);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Shots, ShotPrefix + name + ".png"), FullPage = true });
    }

    protected static async Task<List<(long Self, string Name)>> TopRows(IPage page) =>
        (await page.EvalOnSelectorAllAsync<string[][]>("#top tbody tr", "rows => rows.map(r => [r.querySelector('.self').textContent, r.querySelector('.name').textContent])"))
            .Select(r => (long.Parse(r[0], CultureInfo.InvariantCulture), r[1])).ToList();

    protected static Task Settled(IPage page) => WaitForText(page, "#status", "", exact: true);

    // Polls the text of `selector` until it starts with (or equals) `text`: WaitForFunctionAsync evaluates strings, which
    // the offline file's Content-Security-Policy forbids once it has to poll.
    protected static async Task WaitForText(IPage page, string selector, string text, bool exact = false)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            string now = await page.TextContentAsync(selector) ?? "";
            if (exact ? now == text : now.StartsWith(text, StringComparison.Ordinal)) return;
            if (DateTime.UtcNow > until) throw new TimeoutException($"{selector} still reads \"{now}\", not \"{text}\"");
            await Task.Delay(50);
        }
    }

    [ChromiumRootFact]
    public async Task TopTable_SortsByAnyColumn_AndFilters()
    {
        var (pw, browser, page) = await Open();
        using var _ = pw;
        await using var __ = browser;
        var bySelf = await TopRows(page);
        Assert.Equal(bySelf.Select(r => r.Self).OrderByDescending(x => x), bySelf.Select(r => r.Self));
        Assert.Equal("hot_sixty", bySelf[0].Name);

        await page.ClickAsync("#top th[data-col=name]");
        await Settled(page);
        var byName = await TopRows(page);
        Assert.Equal(byName.Select(r => r.Name).Order(StringComparer.Ordinal), byName.Select(r => r.Name));
        Assert.Contains("sort=name", page.Url);

        await page.ClickAsync("#top th[data-col=self]");
        await page.ClickAsync("#top th[data-col=self]"); // second click: ascending
        await Settled(page);
        var ascending = await TopRows(page);
        Assert.Equal(ascending.Select(r => r.Self).Order(), ascending.Select(r => r.Self));

        await page.FillAsync("#filter", "^hot_");
        await Settled(page);
        Assert.Equal(["hot_sixty", "hot_ten", "hot_thirty"], (await TopRows(page)).Select(r => r.Name).Order(StringComparer.Ordinal));
        await Shot(page, "top-filtered");
        await page.SelectOptionAsync("#flame-mode", "icicle");
        await Settled(page);
        await Shot(page, "icicle");
        Assert.Empty(Requests);

        // The state is in the URL: a fresh page on the same link shows the same table.
        var (pw2, browser2, again) = await Open(new Uri(page.Url).Fragment);
        using var ___ = pw2;
        await using var ____ = browser2;
        Assert.Equal((await TopRows(page)).Select(r => r.Name), (await TopRows(again)).Select(r => r.Name));
    }

    [ChromiumRootFact]
    public async Task SelectedFunction_ShowsOpreportCallersAndCallees_AndOpannotateCounts()
    {
        var (pw, browser, page) = await Open();
        using var _ = pw;
        await using var __ = browser;
        await page.ClickAsync("#top tbody tr:has(td.name:text-is('dispatch'))");
        await page.WaitForSelectorAsync("#fn-pane:not([hidden]) #callers tbody tr");
        await Settled(page);
        var blocks = CallgraphTests.ParseBlocks(Cli.Run("opreport", "-c", "--session-dir", SessionDir).Stdout);
        var block = blocks.Single(b => b.Primary.Image == "hotloop" && b.Primary.Symbol == "dispatch");
        Assert.Equal(block.Primary.Samples.ToString(CultureInfo.InvariantCulture), await page.TextContentAsync("#fn-inclusive"));
        Assert.Equal(block.Self.Samples.ToString(CultureInfo.InvariantCulture), await page.TextContentAsync("#fn-self"));
        async Task<List<(long, string)>> Arcs(string table) =>
            (await page.EvalOnSelectorAllAsync<string[][]>($"#{table} tbody tr", "rows => rows.map(r => [r.querySelector('.samples').textContent, r.querySelector('.name').textContent])"))
                .Select(r => (long.Parse(r[0], CultureInfo.InvariantCulture), r[1])).OrderBy(x => x).ToList();
        Assert.Equal(block.Callers.Select(l => (l.Samples, l.Symbol)).OrderBy(x => x), await Arcs("callers"));
        Assert.Equal(block.Callees.Select(l => (l.Samples, l.Symbol)).OrderBy(x => x), await Arcs("callees"));

        // Following a callee: hot_sixty, then its disassembly.
        await page.ClickAsync("#callees tbody tr:has(td.name:text-is('hot_sixty'))");
        await WaitForText(page, "#fn-title", "hot_sixty");
        await page.ClickAsync("#annotate-load");
        await page.WaitForSelectorAsync("#annotate tbody tr.ins");
        await Settled(page);
        await Shot(page, "function-hot_sixty");
        var shown = (await page.EvalOnSelectorAllAsync<string[][]>("#annotate tbody tr.ins", "rows => rows.map(r => [r.dataset.address, r.querySelector('.samples').textContent])"))
            .Where(r => r[1].Length > 0).ToDictionary(r => ulong.Parse(r[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture), r => long.Parse(r[1], CultureInfo.InvariantCulture));

        var ann = Cli.Run("opannotate", "--session-dir", SessionDir, "--include-symbols", "hot_sixty");
        Assert.Equal(0, ann.ExitCode);
        // opannotate's instruction lines: "   315 15.5941 :    1253:\t48 c1 e2 0d ..." (counts only on sampled ones).
        var expected = new Dictionary<ulong, long>();
        bool inside = false;
        foreach (var line in ann.Stdout.Split('\n'))
        {
            if (Regex.IsMatch(line, @"^[0-9a-f]{16} <")) { inside = line.Contains("<hot_sixty>:", StringComparison.Ordinal); continue; }
            var m = Regex.Match(line, @"^\s*(\d+)\s+[\d.]+ :\s*([0-9a-f]+):");
            if (inside && m.Success) expected[ulong.Parse(m.Groups[2].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture)] = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        }
        output.WriteLine($"opannotate: {expected.Count} sampled instructions, browser: {shown.Count}");
        Assert.NotEmpty(expected);
        Assert.Equal(expected.OrderBy(kv => kv.Key), shown.OrderBy(kv => kv.Key));
    }

    [ChromiumRootFact]
    public async Task AWindowOfBuckets_ShowsWhatTheServerAnswersForThatWindow()
    {
        using var session = new XenProf.Reporter.Web.WebSession(SessionDir);
        long bucket = session.Timeline(new(), "domain", XenProf.Reporter.Web.OfflineReport.TimelineBuckets).BucketNs;
        long from = 40 * bucket, to = 130 * bucket;
        var q = new XenProf.Reporter.Web.WebQuery(0, from, to);
        var top = session.Top(q, "symbol");
        string fn = top.Rows.First(r => r.Name == "hot_sixty").Fn!;
        var graph = session.CallGraph(q, fn);
        var ann = session.Annotate(q, fn);
        var flame = session.Flame(q);
        Assert.InRange(top.Total, 1, session.Top(new(), "symbol").Total - 1);

        var (pw, browser, page) = await Open($"#from={from}&to={to}&fn={Uri.EscapeDataString(fn)}&asm=1");
        using var _ = pw;
        await using var __ = browser;
        await page.WaitForSelectorAsync("#annotate tbody tr.ins");
        await Settled(page);
        await Shot(page, "window");
        output.WriteLine($"window [{from}, {to}) ns: {top.Total} samples, {top.Rows.Count} symbol rows");
        Assert.Equal(top.Total.ToString(CultureInfo.InvariantCulture), await page.TextContentAsync("#total"));
        Assert.StartsWith("window", await page.TextContentAsync("#window-label"));
        Assert.Equal(top.Rows.Take(100).Select(r => (r.Self, r.Name)), await TopRows(page));
        Assert.Equal(graph.Inclusive.ToString(CultureInfo.InvariantCulture), await page.TextContentAsync("#fn-inclusive"));
        Assert.Equal(graph.Self.ToString(CultureInfo.InvariantCulture), await page.TextContentAsync("#fn-self"));
        async Task<List<(long, string)>> Arcs(string table) =>
            (await page.EvalOnSelectorAllAsync<string[][]>($"#{table} tbody tr", "rows => rows.map(r => [r.querySelector('.samples').textContent, r.querySelector('.name').textContent])"))
                .Select(r => (long.Parse(r[0], CultureInfo.InvariantCulture), r[1])).ToList();
        Assert.Equal(graph.Callers.Select(a => (a.Samples, a.Name)), await Arcs("callers"));
        Assert.Equal(graph.Callees.Select(a => (a.Samples, a.Name)), await Arcs("callees"));
        var shown = (await page.EvalOnSelectorAllAsync<string[][]>("#annotate tbody tr.ins", "rows => rows.map(r => [r.dataset.address, r.querySelector('.samples').textContent, r.querySelector('.adjusted').textContent])"))
            .Where(r => r[1].Length > 0 || r[2].Length > 0).Select(r => (r[0], r[1], r[2])).ToList();
        Assert.Equal(ann.Instructions.Where(i => i.Samples > 0 || i.Adjusted > 0)
            .Select(i => (i.Address, i.Samples > 0 ? i.Samples.ToString(CultureInfo.InvariantCulture) : "", i.Adjusted > 0 ? i.Adjusted.ToString(CultureInfo.InvariantCulture) : "")), shown);
        Assert.StartsWith($"{flame.Nodes[1].Name} ({flame.Nodes[1].Kind}): {flame.Nodes[1].Total} samples", await page.EvalOnSelectorAsync<string>("#flame .f[data-i='1']", "e => e.title"));

        foreach (var by in new[] { "image", "process", "thread", "domain" })
        {
            await page.SelectOptionAsync("#top-by", by);
            await Settled(page);
            Assert.Equal(session.Top(q, by).Rows.Take(100).Select(r => (r.Self, r.Name)), await TopRows(page));
        }
        Assert.Empty(Requests);
    }

    [ChromiumRootFact]
    public async Task BrushingATimeRange_FiltersEveryView()
    {
        var (pw, browser, page) = await Open("#fn=" + Uri.EscapeDataString(await FunctionKey("hot_sixty")));
        using var _ = pw;
        await using var __ = browser;
        await page.WaitForSelectorAsync("#fn-pane:not([hidden]) #callers tbody tr");
        long total = long.Parse((await page.TextContentAsync("#total"))!, CultureInfo.InvariantCulture);
        long topFirst = (await TopRows(page))[0].Self;
        string inclusive = (await page.TextContentAsync("#fn-inclusive"))!;
        string flameWidth = await page.EvalOnSelectorAsync<string>("#flame .f[data-i='1']", "e => e.title");

        var box = (await page.QuerySelectorAsync("#timeline"))!;
        var b = (await box.BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(b.X + b.Width * 0.10f, b.Y + b.Height / 2);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(b.X + b.Width * 0.40f, b.Y + b.Height / 2, new MouseMoveOptions { Steps = 5 });
        await page.Mouse.UpAsync();
        await WaitForText(page, "#window-label", "window");
        await Settled(page);
        await page.WaitForSelectorAsync("#timeline #brush");
        await Shot(page, "brushed");

        long windowTotal = long.Parse((await page.TextContentAsync("#total"))!, CultureInfo.InvariantCulture);
        output.WriteLine($"whole session {total} samples, brushed window {windowTotal}");
        Assert.InRange(windowTotal, 1, total - 1);
        var window = Regex.Match(page.Url, "from=(\\d+)&to=(\\d+)");
        Assert.True(window.Success, page.Url);
        if (Offline)
        {
            // Offline, the window is made of whole timeline buckets.
            using var ws = new XenProf.Reporter.Web.WebSession(SessionDir);
            long bucket = ws.Timeline(new(), "domain", XenProf.Reporter.Web.OfflineReport.TimelineBuckets).BucketNs;
            Assert.Equal(0, long.Parse(window.Groups[1].Value, CultureInfo.InvariantCulture) % bucket);
            Assert.Equal(0, long.Parse(window.Groups[2].Value, CultureInfo.InvariantCulture) % bucket);
        }
        Assert.True((await TopRows(page))[0].Self < topFirst, "the top table follows the window");
        Assert.NotEqual(inclusive, await page.TextContentAsync("#fn-inclusive"));
        Assert.NotEqual(flameWidth, await page.EvalOnSelectorAsync<string>("#flame .f[data-i='1']", "e => e.title"));
        Assert.Contains($"{windowTotal} samples", await page.TextContentAsync("#top-more"));

        await page.ClickAsync("#window-reset");
        await WaitForText(page, "#window-label", "whole");
        await Settled(page);
        Assert.Equal(total.ToString(CultureInfo.InvariantCulture), await page.TextContentAsync("#total"));
    }
}
