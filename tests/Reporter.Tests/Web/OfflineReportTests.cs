using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using XenProf.Reporter.Tests.Exports;
using XenProf.Reporter.Web;
using Xunit;

namespace XenProf.Reporter.Tests.Web;

/// <summary>
/// The offline browser report (<c>flame --format html</c>) of the Xen-shaped export session (two events, three domains):
/// one file with nothing to fetch, a CSP that admits only its own script, and embedded answers that are byte for byte
/// what <c>serve</c> answers for the same views. The page itself is driven in chromium by XenOprof.Tests' browser tests.
/// </summary>
[Collection(ExportCollection.Name)]
public sealed class OfflineReportTests : IDisposable
{
    private readonly ExportSession _s = new();

    public void Dispose() => _s.Dispose();

    private (string Html, JsonElement Data, OfflineReportStats Stats) Write(OfflineReportOptions? options = null)
    {
        string path = _s.PathOf("report.html");
        OfflineReportStats stats;
        using (var f = File.Create(path)) stats = OfflineReport.Write(_s.Dir, f, options);
        string html = File.ReadAllText(path);
        Assert.Equal(new FileInfo(path).Length, stats.Bytes);
        var json = OfflineReport.ReadData(html);
        Assert.True(json != null, "no embedded data block");
        return (html, JsonDocument.Parse(json).RootElement.Clone(), stats);
    }

    [Fact]
    public void Is_one_file_that_fetches_nothing_and_whose_csp_admits_only_its_script()
    {
        var (html, _, _) = Write();
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.DoesNotMatch(new Regex("(src|href)=\"(?!data:)", RegexOptions.IgnoreCase), html);
        Assert.DoesNotContain("<link rel=\"stylesheet\"", html);
        Assert.Contains("<style>", html);

        var csp = Regex.Match(html, "<meta http-equiv=\"Content-Security-Policy\" content=\"([^\"]+)\">").Groups[1].Value;
        Assert.Contains("default-src 'none'", csp);
        var scripts = Regex.Matches(html, "<script>(.*?)</script>", RegexOptions.Singleline);
        var script = Assert.Single(scripts).Groups[1].Value;
        Assert.Contains("script-src 'sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(script))) + "'", csp);
    }

    [Fact]
    public void Embeds_every_view_as_serve_answers_it()
    {
        var (html, data, stats) = Write();
        using var web = new WebSession(_s.Dir);
        string Json<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) => JsonSerializer.Serialize(value, type);
        string Embedded(string view, string key) => OfflineReport.ReadView(html, view, key) ?? throw new Xunit.Sdk.XunitException($"{view} {key} is not embedded");

        Assert.Equal(2, stats.Events);
        for (int e = 0; e < 2; e++)
        {
            var q = new WebQuery(e);
            Assert.Equal(Json(web.Summary(q), WebJson.Default.WebSummary), Embedded("summary", $"{e}:"));
            foreach (var by in WebSession.TopGroupings) Assert.Equal(Json(web.Top(q, by), WebJson.Default.WebTop), Embedded("top", $"{e}:{by}"));
            Assert.Equal(Json(web.Flame(q), WebJson.Default.WebFlame), Embedded("flame", $"{e}:"));
            foreach (var by in WebSession.TimelineGroupings)
                Assert.Equal(Json(web.Timeline(q, by, OfflineReport.TimelineBuckets), WebJson.Default.WebTimeline), Embedded("timeline", $"{e}:{by}"));
        }
        var clock = web.Summary(new WebQuery(0)).Events[0];
        Assert.Equal(_s.Samples.Count(x => x.Event == _s.Clock.Id), clock.Total);

        // Call graphs: the functions with the most samples on the stack, each as /api/callgraph answers.
        var top = web.Top(new WebQuery(0), "symbol");
        var callgraphs = OfflineReport.Keys(html, "callgraph").Where(k => k.StartsWith("0:", StringComparison.Ordinal)).ToList();
        Assert.Equal(top.Rows.Count(r => r.Fn != null), callgraphs.Count); // fewer than 200 here: all of them
        foreach (var k in callgraphs) Assert.Equal(Json(web.CallGraph(new WebQuery(0), k[2..]), WebJson.Default.WebCallGraph), Embedded("callgraph", k));
        // The first page's answers are in the data block; the rest wait in blocks of their own.
        var views = data.GetProperty("views");
        Assert.True(views.GetProperty("top").TryGetProperty("0:symbol", out _));
        Assert.False(views.GetProperty("top").TryGetProperty("0:image", out _));
        Assert.False(views.TryGetProperty("callgraph", out _));
        Assert.Equal(200, data.GetProperty("maxFunctions").GetInt32());
    }

    [Fact]
    public void MaxFunctions_keeps_the_functions_with_the_largest_totals()
    {
        var (html, data, stats) = Write(new OfflineReportOptions { MaxFunctions = 2 });
        using var web = new WebSession(_s.Dir);
        Assert.Equal(2, stats.Functions);
        var expected = web.Top(new WebQuery(0), "symbol").Rows.Where(r => r.Fn != null).OrderByDescending(r => r.Total).ThenByDescending(r => r.Self).Take(2).Select(r => "0:" + r.Fn);
        var embedded = OfflineReport.Keys(html, "callgraph").Where(n => n.StartsWith("0:", StringComparison.Ordinal));
        Assert.Equal(expected.Order(StringComparer.Ordinal), embedded.Order(StringComparer.Ordinal));
        Assert.Equal(2, data.GetProperty("maxFunctions").GetInt32());
    }

    [Fact]
    public void MinFlameShare_keeps_the_frames_with_that_share_as_a_tree()
    {
        var (_, data, _) = Write(new OfflineReportOptions { MinFlameShare = 0.1 });
        using var web = new WebSession(_s.Dir);
        var full = web.Flame(new WebQuery(0));
        var kept = data.GetProperty("views").GetProperty("flame").GetProperty("0:").GetProperty("nodes").EnumerateArray().ToList();
        Assert.Equal(full.Nodes.Count(n => n.Total * 10 >= full.Total), kept.Count);
        Assert.True(kept.Count < full.Nodes.Count, "nothing was pruned");
        for (int i = 1; i < kept.Count; i++)
        {
            // A node is [frame, parent, total, self] (WebFlameJson).
            int parent = kept[i][1].GetInt32();
            Assert.InRange(parent, 0, i - 1); // pre-order: the parent is kept, and before its child
            Assert.True(kept[parent][2].GetInt64() >= kept[i][2].GetInt64());
        }
    }

    [Fact]
    public void Title_is_html_encoded()
    {
        var (html, _, _) = Write(new OfflineReportOptions { Title = "a <b> & c" });
        Assert.Contains("<title>a &lt;b&gt; &amp; c</title>", html);
    }

    [Fact]
    public void A_long_function_keeps_its_hot_instructions_with_context_and_says_so()
    {
        var ins = Enumerable.Range(0, 50).Select(i => new WebInstruction((0x1000 + i).ToString("x"), [$"insn {i}"], i is 10 or 40 ? 5 : 0, i == 41 ? 2 : 0, null, 0, null)).ToList();
        var a = new WebAnnotation("f", "app", "1000", 50, 12, 100, null, null, ins);
        var cut = OfflineReport.Cut(a, new OfflineReportOptions { MaxInstructions = 12, AnnotationContext = 2 });
        // 10 and 40 (5 samples each) with 2 on each side, then 41's window adds 42 and 43: 12 in all, in address order.
        Assert.Equal([8, 9, 10, 11, 12, 38, 39, 40, 41, 42, 43], cut.Instructions.Select(x => int.Parse(x.Text[0][5..])).ToArray()[..11]);
        Assert.Equal(11, cut.Instructions.Count);
        Assert.Contains("11 of the function's 50 instructions", cut.Problem);
        Assert.Same(a, OfflineReport.Cut(a, new OfflineReportOptions { MaxInstructions = 50 }));
    }
}
