using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using CsvHelper;
using Microsoft.Playwright;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// The differential browser report on two recordings with a known shift (Data/diff/shift.c run with 70, then 30: work
/// moves from f to g, h stays): served by <c>serve { A } { B }</c> and written offline by
/// <c>flame --format html --diff-base A B</c>, the table shows <c>opreport -l --csv { A } { B }</c>'s samples, p-values
/// and marks (f and g marked, h not), and the flame graph fills g red and f blue. Screenshots: <c>serve-screenshots/diff-*.png</c>.
/// </summary>
[Collection(PerfCollection.Name)]
public sealed class DiffBrowserTests(DiffBrowserTests.Recordings rec, ITestOutputHelper output) : IClassFixture<DiffBrowserTests.Recordings>
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    [ChromiumRootFact]
    public async Task Served_MarksTheShiftedFunctions()
    {
        await Check(rec.Url.ToString(), "diff-served");
        // Each side has its own time axis: a window is refused with the reason.
        using var c = new HttpClient();
        var token = System.Web.HttpUtility.ParseQueryString(rec.Url.Query)["token"];
        var r = await c.GetAsync(new Uri(rec.Url, $"/api/diff?from=0&to=1000000&token={token}"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("time windows are not available", await r.Content.ReadAsStringAsync());
    }

    [ChromiumRootFact]
    public Task Offline_MarksTheShiftedFunctions() => Check(new Uri(rec.File).ToString(), "diff-offline");

    private async Task Check(string url, string shot)
    {
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        using var pw = await Playwright.CreateAsync();
        await using var browser = await pw.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumRootFactAttribute.ChromiumPath, Headless = true, Args = ["--no-sandbox", "--disable-gpu"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });
        page.PageError += (_, e) => output.WriteLine("page error: " + e);
        await page.GotoAsync(url);
        await page.WaitForSelectorAsync("#diff:not([hidden]) tbody tr");
        await page.WaitForFunctionAsync("document.getElementById('status').textContent === ''");

        // The table: opreport -l { A } { B }'s rows, numbers and marks.
        var csv = Cli.Run("opreport", "-l", "--csv", "{", rec.Before, "}", "{", rec.After, "}");
        Assert.True(csv.ExitCode == 0, csv.Stderr);
        var expected = new Dictionary<(string, string), (long Base, long New, double P, bool Sig)>();
        using (var r = CsvReader.Create(new StringReader(csv.Stdout), new CsvReaderOptions { HasHeader = true }, leaveOpen: false))
            while (r.Read())
                expected[(r.GetString("image"), r.GetString("symbol"))] = (long.Parse(r.GetString("base_samples"), Inv), long.Parse(r.GetString("new_samples"), Inv),
                    double.Parse(r.GetString("p_value"), Inv), bool.Parse(r.GetString("significant")));
        var shown = (await page.EvalOnSelectorAllAsync<string[][]>("#diff tbody tr", "rows => rows.map(r => ['base', 'new', 'p', 'mark', 'image', 'name'].map(c => r.querySelector('.' + c).textContent))"))
            .ToDictionary(x => (x[4], x[5]), x => (Base: long.Parse(x[0], Inv), New: long.Parse(x[1], Inv), P: double.Parse(x[2], Inv), Sig: x[3] == "*"));
        Assert.Equal(expected.Keys.Order(), shown.Keys.Order());
        foreach (var (key, e) in expected)
        {
            var s = shown[key];
            Assert.True((e.Base, e.New, e.Sig) == (s.Base, s.New, s.Sig), $"{key}: opreport {e}, browser {s}");
            Assert.True(Math.Abs(e.P - s.P) <= 1e-3 * Math.Max(e.P, 1e-300) || e.P < 1e-300, $"{key}: p {e.P} vs {s.P}");
        }
        // Of the program's own rows exactly f and g are marked (the kernel's can shift with the machine's load: see DiffTests).
        Assert.Equal(["f", "g"], shown.Where(kv => kv.Value.Sig && kv.Key.Item1 == "shift").Select(kv => kv.Key.Item2).Order());
        Assert.Equal("grew", await page.EvalOnSelectorAsync<string>("#diff tbody tr:has(td.name:text-is('g'))", "r => r.classList.contains('grew') ? 'grew' : r.className"));
        Assert.Equal("shrank", await page.EvalOnSelectorAsync<string>("#diff tbody tr:has(td.name:text-is('f'))", "r => r.classList.contains('shrank') ? 'shrank' : r.className"));

        // The flame graph, coloured by each frame's own change: g red, f blue (DiffFlameGraph's rule).
        async Task<(int R, int G, int B)> Fill(string name)
        {
            var rgb = await page.EvalOnSelectorAsync<string>($"#flame .f >> text=\"{name}\"", "e => getComputedStyle(e).backgroundColor");
            var m = Regex.Match(rgb, @"rgb\((\d+), (\d+), (\d+)\)");
            Assert.True(m.Success, rgb);
            return (int.Parse(m.Groups[1].Value, Inv), int.Parse(m.Groups[2].Value, Inv), int.Parse(m.Groups[3].Value, Inv));
        }
        var (g, f) = (await Fill("g"), await Fill("f"));
        output.WriteLine($"g {g}, f {f}");
        Assert.True(g.R == 255 && g.G < 100 && g.G == g.B, $"g is {g}");
        Assert.True(f.B == 255 && f.R < 100 && f.R == f.G, $"f is {f}");
        Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "serve-screenshots"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(AppContext.BaseDirectory, "serve-screenshots", shot + ".png"), FullPage = true });
    }

    /// <summary>shift.c recorded with 70 and with 30 (callchains), served as <c>serve { f70 } { f30 }</c>, and its offline file.</summary>
    public sealed class Recordings : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("xenprof-diffweb-").FullName;
        private readonly Lazy<(string Before, string After, Process Server, Uri Url, string File)> _made;

        public Recordings() => _made = new(() =>
        {
            var shift = Path.Combine(_dir, "shift");
            using (var gcc = Process.Start("gcc", ["-O2", "-fno-omit-frame-pointer", "-o", shift, Path.Combine(Cli.BinDir, "Data", "diff", "shift.c")]))
            {
                gcc.WaitForExit();
                Assert.Equal(0, gcc.ExitCode);
            }
            string Record(string name, string arg)
            {
                var dir = Path.Combine(_dir, name);
                var r = Cli.Run("record", "--session-dir", dir, "--callgraph", "--", shift, arg);
                Assert.True(r.ExitCode == 0, r.Stderr);
                return dir;
            }
            var (before, after) = (Record("f70", "70"), Record("f30", "30"));
            string file = Path.Combine(_dir, "diff.html");
            var fl = Cli.Run("flame", "--format", "html", "--diff-base", before, "--session-dir", after, "-o", file);
            Assert.True(fl.ExitCode == 0, fl.Stderr);
            var (server, url) = ServedSession.StartServer(["{", before, "}", "{", after, "}"]);
            return (before, after, server, url, file);
        });

        public string Before => _made.Value.Before;
        public string After => _made.Value.After;
        public Uri Url => _made.Value.Url;
        public string File => _made.Value.File;

        public void Dispose()
        {
            if (_made.IsValueCreated) ServedSession.Stop(_made.Value.Server);
            try { Directory.Delete(_dir, true); } catch (IOException) { }
        }
    }
}
