using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using SkiaSharp;
using XenProf.Reporter.Flame;
using XenProf.Reporter.Tests.Exports;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// Writes every <c>flame</c> format of one session through the CLI and checks each with the reader that defines it,
/// where installed: speedscope's schema and pprof-format (npm, tests/Reporter.Tests/tools), a Trace Event Format
/// schema (ajv), go tool pprof, headless chromium for the SVG (through Reporter.Tests' flame harness,
/// with screenshots left under TestResults/exports/SOURCE), SkiaSharp for the PNG plots. Totals must agree with the
/// folded stacks. Absent validators are reported, not failed.
/// </summary>
internal static class ExportChecks
{
    public static readonly string[] Outputs =
        ["flame.folded", "flame.svg", "report.html", "profile.speedscope.json", "profile.trace.json", "profile.pb.gz", "top.png"];

    /// <summary>
    /// Exports <paramref name="session"/> into <paramref name="outDir"/>; returns the folded total (samples of the
    /// first event). <paramref name="source"/> names the session's origin for the artifacts (a relative folder).
    /// </summary>
    public static long ExportAndCheck(string session, string outDir, string source, ITestOutputHelper log)
    {
        Directory.CreateDirectory(outDir);
        string P(string name) => Path.Combine(outDir, name);
        foreach (var name in Outputs)
        {
            var r = Cli.Run("flame", "--session-dir", session, "--output", P(name));
            Assert.True(r.ExitCode == 0, $"flame {name}: {r.Stderr}");
            Assert.True(new FileInfo(P(name)).Length > 100, name);
        }
        Assert.True(File.Exists(P("top.timeline.png")));
        // Folded counts sum periods by default (as stackcollapse-perf.pl); in samples they are what the other exports count.
        var samples = Cli.Run("flame", "--session-dir", session, "--weight", "samples", "--output", P("flame.samples.folded"));
        Assert.True(samples.ExitCode == 0, samples.Stderr);
        long Total(string name) => File.ReadAllLines(P(name)).Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..]));
        long total = Total("flame.samples.folded");
        Assert.True(total > 0);
        Assert.True(Total("flame.folded") >= total);

        using (var doc = JsonDocument.Parse(File.ReadAllBytes(P("profile.speedscope.json"))))
        {
            Assert.Equal("https://www.speedscope.app/file-format-schema.json", doc.RootElement.GetProperty("$schema").GetString());
            Assert.Equal(total, doc.RootElement.GetProperty("profiles").EnumerateArray().Sum(p => p.GetProperty("samples").GetArrayLength()));
        }
        using (var gz = new GZipStream(File.OpenRead(P("profile.pb.gz")), CompressionMode.Decompress))
            Assert.True(gz.ReadByte() >= 0);
        // report.html is serve's page offline; its embedded flame graph counts the samples the folded stacks count.
        string html = File.ReadAllText(P("report.html"));
        Assert.StartsWith("<!DOCTYPE html>", html);
        var data = XenProf.Reporter.Web.OfflineReport.ReadData(html);
        Assert.True(data != null, "report.html: no embedded data");
        using (var doc = JsonDocument.Parse(data))
        {
            var views = doc.RootElement.GetProperty("views");
            if (views.GetProperty("summary").GetProperty("0:").GetProperty("events").GetArrayLength() == 1)
                Assert.Equal(total, views.GetProperty("flame").GetProperty("0:").GetProperty("total").GetInt64());
        }

        string? tools = NodeTools();
        if (tools == null) log.WriteLine("npm validators not installed (npm ci in tests/Reporter.Tests/tools): speedscope/pprof/trace schema checks skipped");
        else
        {
            var ss = Node(tools, "check-speedscope.js", P("profile.speedscope.json"));
            Assert.True(ss.GetProperty("valid").GetBoolean(), ss.GetProperty("errors").ToString());
            var pp = Node(tools, "check-pprof.js", P("profile.pb.gz"));
            Assert.False(pp.GetProperty("dangling").GetBoolean());
            long pprofSamples = pp.GetProperty("totals")[0].GetInt64();
            using var trace = JsonDocument.Parse(File.ReadAllBytes(P("profile.trace.json")));
            long traceEvents = trace.RootElement.GetProperty("traceEvents").EnumerateArray().Count(e => e.GetProperty("ph").GetString() == "X");
            Assert.Equal(pprofSamples, traceEvents); // both carry every event's samples
            var schema = Path.Combine(tools, "..", "Data", "chrome", "trace-event-format.schema.json");
            var tr = Node(tools, "check-schema.js", schema, P("profile.trace.json"));
            Assert.True(tr.GetProperty("valid").GetBoolean(), tr.GetProperty("errors").ToString());
        }

        if (Which("go") is { } go)
        {
            var (code, o) = Run(go, null, "tool", "pprof", "-top", P("profile.pb.gz"));
            Assert.True(code == 0, o);
            Assert.Contains("Showing nodes accounting for", o);
        }
        else log.WriteLine("go not installed (apt-get install golang-go): go tool pprof check skipped");

        CheckPngs(outDir, source, log);
        if (ExternalTools.Chromium is null) log.WriteLine("chromium not installed (apt-get install chromium): svg and html checks skipped");
        else CheckFlameGraphsInChromium(outDir, source, log);
        return total;
    }

    /// <summary>top.png and top.timeline.png decode at the CLI's default size and are not blank; copies them to the artifacts.</summary>
    private static void CheckPngs(string outDir, string source, ITestOutputHelper log)
    {
        var (width, height) = FlameExportOptions.Default.PngSize; // flame has no size option
        foreach (var name in new[] { "top.png", "top.timeline.png" })
        {
            string path = Path.Combine(outDir, name);
            using (var bmp = SKBitmap.Decode(path))
            {
                Assert.True(bmp != null, name + ": not a decodable image");
                Assert.Equal((width, height), (bmp.Width, bmp.Height));
                var colours = new HashSet<uint>();
                for (int y = 0; y < bmp.Height; y += 3)
                    for (int x = 0; x < bmp.Width; x += 3)
                        colours.Add((uint)bmp.GetPixel(x, y));
                Assert.True(colours.Count > 20, $"{name} looks blank: {colours.Count} colours");
            }
            File.Copy(path, Path.Combine(ExternalTools.ArtifactDir(source), name), overwrite: true);
        }
    }

    /// <summary>
    /// flame.svg loads in chromium without script errors, draw as many frames as the folded stacks
    /// give at the CLI's default width and --minwidth, and a search for the hottest leaf matches the share of
    /// samples the folded stacks give and highlights each of its frames. Screenshots go to the artifacts.
    /// </summary>
    private static void CheckFlameGraphsInChromium(string outDir, string source, ITestOutputHelper log)
    {
        List<FlameStack> stacks;
        using (var folded = File.OpenText(Path.Combine(outDir, "flame.folded"))) stacks = FoldedReader.Read(folded).ToList();
        var svg = SvgFlameOptions.Default; // what flame draws without --width and --minwidth
        var tree = FlameTree.Build(stacks);
        int drawn = SvgFlameGraph.CountDrawnFrames(tree, svg);

        // SvgFlameGraph's documented rule: the root spans Width - 20 px and a node narrower than MinWidthPx is not
        // drawn (totals shrink going down, so its descendants are not either). Checked against CountDrawnFrames.
        double scale = (svg.Width - 20.0) / tree.Total;
        bool IsDrawn(FlameNode n) => n.Total > 0 && n.Total * scale >= svg.MinWidthPx;
        Assert.Equal(drawn, tree.Nodes().Count(IsDrawn));

        // The hottest leaf whose every frame is drawn: then the search's share is exactly the folded stacks' share.
        var byName = tree.Nodes().Where(n => n.Depth > 0).ToLookup(n => n.Name, StringComparer.Ordinal);
        string target = stacks.GroupBy(x => x.Frames[^1].Name, StringComparer.Ordinal)
            .OrderByDescending(g => g.Sum(x => x.Count)).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Key).FirstOrDefault(name => byName[name].All(IsDrawn))!;
        Assert.True(target != null, "flame.folded: no leaf whose every frame is drawn at the default --minwidth");
        long through = stacks.Where(x => x.Frames.Any(f => f.Name == target)).Sum(x => x.Count);
        double percent = 100.0 * through / tree.Total;
        int frames = byName[target].Count();

        string artifacts = ExternalTools.ArtifactDir(source);
        foreach (var file in new[] { "flame.svg" }) // report.html is the browser app, driven by OfflineBrowserTests
        {
            var r = ExternalTools.RunFlameHarness(outDir, file, ExternalTools.ExactPattern(target));
            Assert.True(drawn == r.GetProperty("frames").GetInt32(), $"{file}: {r.GetProperty("frames")} frames drawn, the folded stacks give {drawn}");
            Assert.True(Math.Abs(percent - r.GetProperty("match").GetDouble()) < 1e-6, $"{file}: search '{target}' matched {r.GetProperty("match")}%, the folded stacks give {percent}%");
            Assert.Equal(FormattableString.Invariant($"Matched: {percent:F2}%"), r.GetProperty("matchedText").GetString());
            Assert.True(frames == r.GetProperty("highlighted").GetInt32(), $"{file}: search '{target}' highlighted {r.GetProperty("highlighted")} frames, expected {frames}");
            string png = Path.Combine(artifacts, file + ".png");
            ExternalTools.Screenshot(outDir, file, png);
            log.WriteLine($"{source}: {file} draws {drawn} frames, '{target}' matches {percent:F2}% in {frames} frames; screenshot {png}");
        }
    }

    public static string? Which(string name) => ExternalTools.FindOnPath(name);

    public static string? NodeTools() => ExternalTools.Node == null ? null : ExternalTools.NodeTools;

    private static JsonElement Node(string tools, string script, params string[] args)
    {
        var (code, o) = Run("node", tools, [Path.Combine(tools, script), .. args]);
        Assert.True(code == 0, $"node {script}: {o}");
        return JsonDocument.Parse(o).RootElement.Clone();
    }

    public static (int Code, string Output) Run(string file, string? workingDir, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDir != null) psi.WorkingDirectory = workingDir;
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(120_000)) { p.Kill(true); Assert.Fail($"{file} did not finish within 120 s"); }
        return (p.ExitCode, p.ExitCode == 0 ? o : o + err.Result);
    }
}

/// <summary>A fact skipped when this build's xenoprof has no verb <c>name</c> (a verb another branch adds).</summary>
public sealed class VerbFactAttribute : FactAttribute
{
    private static readonly Lazy<string> Help = new(() => Cli.Run("--help").Stdout);

    public VerbFactAttribute(string verb)
    {
        if (!System.Text.RegularExpressions.Regex.IsMatch(Help.Value, $@"^\s+{verb}\b", System.Text.RegularExpressions.RegexOptions.Multiline))
            Skip = $"this xenoprof has no '{verb}' verb yet";
    }
}
