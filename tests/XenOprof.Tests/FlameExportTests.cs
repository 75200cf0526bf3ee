using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// A live record of the built-in workload, then <c>flame</c> in every format with the extension inference and
/// the filters; speedscope and pprof files also go through the npm validators when they are installed
/// (tests/Reporter.Tests/tools), and pprof through go tool pprof when Go is installed.
/// </summary>
public sealed class FlameExportTests(ITestOutputHelper output)
{
    [RootFact]
    public void LiveSession_ExportsEveryFormat()
    {
        var dir = Cli.NewSessionDir();
        try
        {
            var rec = Cli.Run("record", "--session-dir", dir, "-g");
            Assert.Equal(0, rec.ExitCode);
            string P(string name) => Path.Combine(dir, name);
            foreach (var name in new[] { "flame.folded", "flame.svg", "report.html", "profile.speedscope.json", "profile.trace.json", "profile.pb.gz", "top.png" })
            {
                var r = Cli.Run("flame", "--session-dir", dir, "--output", P(name));
                output.WriteLine(r.Stderr);
                Assert.Equal(0, r.ExitCode);
                Assert.True(new FileInfo(P(name)).Length > 100, name);
            }
            Assert.True(File.Exists(P("top.timeline.png")));
            long total = File.ReadAllLines(P("flame.folded")).Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..]));

            using (var doc = JsonDocument.Parse(File.ReadAllBytes(P("profile.speedscope.json"))))
            {
                Assert.Equal("https://www.speedscope.app/file-format-schema.json", doc.RootElement.GetProperty("$schema").GetString());
                Assert.Equal(total, doc.RootElement.GetProperty("profiles").EnumerateArray().Sum(p => p.GetProperty("samples").GetArrayLength()));
            }
            using (var doc = JsonDocument.Parse(File.ReadAllBytes(P("profile.trace.json"))))
                Assert.Equal(total, doc.RootElement.GetProperty("traceEvents").EnumerateArray().Count(e => e.GetProperty("ph").GetString() == "X"));
            using (var gz = new GZipStream(File.OpenRead(P("profile.pb.gz")), CompressionMode.Decompress))
                Assert.True(gz.ReadByte() >= 0);
            Assert.Contains("hot_sixty", File.ReadAllText(P("report.html")));

            // Filters: the workload's pid only, and a time window, with --format overriding the extension.
            using (var doc = JsonDocument.Parse(File.ReadAllBytes(P("profile.trace.json"))))
            {
                var x = doc.RootElement.GetProperty("traceEvents").EnumerateArray().First(e => e.GetProperty("ph").GetString() == "X");
                int workload = (int)x.GetProperty("pid").GetInt64();
                var r = Cli.Run("flame", "--session-dir", dir, "--pid", workload.ToString(), "--from", "0", "--to", "0.5", "--format", "folded", "--output", P("window.txt"));
                Assert.Equal(0, r.ExitCode);
                long windowed = File.ReadAllLines(P("window.txt")).Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..]));
                Assert.InRange(windowed, 1, total - 1);
            }
            var bad = Cli.Run("flame", "--session-dir", dir, "--output", P("x.unknown"));
            Assert.Equal(1, bad.ExitCode);
            Assert.Contains("--format", bad.Stderr);

            string? tools = FindNodeTools();
            if (tools != null)
            {
                var (code, text) = RunNode(tools, "check-speedscope.js", P("profile.speedscope.json"));
                Assert.True(code == 0, text);
                Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("valid").GetBoolean(), text);
                (code, text) = RunNode(tools, "check-pprof.js", P("profile.pb.gz"));
                Assert.True(code == 0, text);
                Assert.Equal(total, JsonDocument.Parse(text).RootElement.GetProperty("totals")[0].GetInt64());
            }
            else output.WriteLine("skipped the npm validators: not installed (npm ci in tests/Reporter.Tests/tools)");
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
    }

    [Fact]
    public void BadFlags_AreOneLineUserErrors()
    {
        var dir = Cli.NewSessionDir();
        try
        {
            var missing = Cli.Run("flame", "--session-dir", Path.Combine(dir, "none"), "--output", Path.Combine(dir, "x.svg"));
            Assert.Equal(1, missing.ExitCode);
            Assert.Contains("no session directory", missing.Stderr);
            var format = Cli.Run("flame", "--session-dir", dir, "--format", "gif", "--output", Path.Combine(dir, "x.gif"));
            Assert.Equal(1, format.ExitCode);
            Assert.Contains("unknown format 'gif'", format.Stderr);
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
    }

    private static string? FindNodeTools()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            string tools = Path.Combine(d.FullName, "tests", "Reporter.Tests", "tools");
            if (File.Exists(Path.Combine(tools, "package.json")))
                return Directory.Exists(Path.Combine(tools, "node_modules", "pprof-format")) ? tools : null;
        }
        return null;
    }

    private static (int Code, string Output) RunNode(string tools, string script, string file)
    {
        var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = tools };
        psi.ArgumentList.Add(Path.Combine(tools, script));
        psi.ArgumentList.Add(file);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit(60_000);
        return (p.ExitCode, o + err.Result);
    }
}
