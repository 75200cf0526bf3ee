using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using XenProf.Reporter.Flame;
using Xunit;
using static XenProf.Reporter.Tests.Flame.FlameTestData;

namespace XenProf.Reporter.Tests.Flame;

/// <summary>
/// Loads a generated SVG in headless chromium (inside an iframe of a harness page) and drives its script:
/// search with nested matches, Ctrl-F, hover, click to zoom, Reset Zoom. Skipped when chromium is absent.
/// </summary>
public class SvgInBrowserTests
{
    private const string Harness = """
<!DOCTYPE html><html><body><pre id="out">pending</pre>
<iframe id="f" src="flame.svg" width="1200" height="900"></iframe>
<script>
var errors = [];
window.addEventListener("error", function (e) { errors.push(e.message); });
document.getElementById("f").addEventListener("load", function () {
  var out = {};
  try {
    var w = this.contentWindow, d = this.contentDocument;
    var all = function (sel) { return Array.prototype.slice.call(d.querySelectorAll(sel)); };
    var byName = function (n) { return all("g.frame").filter(function (g) { return g.querySelector("title").textContent.indexOf(n + " (") === 0; })[0]; };
    out.hasApi = typeof w.flame === "object";
    out.frames = all("g.frame").length;
    out.match = w.flame.search("^Interpreter$");
    out.matchedText = d.getElementById("matched").textContent;
    out.highlighted = all("g.frame rect").filter(function (r) { return r.getAttribute("fill") === "rgb(230,0,230)"; }).length;
    w.flame.clearSearch();
    out.afterClear = d.getElementById("matched").textContent.trim() + "|" + d.getElementById("search").textContent;
    w.prompt = function () { return "/^foo\\.RUN$/i"; };
    w.dispatchEvent(new w.KeyboardEvent("keydown", { key: "f", ctrlKey: true, bubbles: true }));
    out.ctrlF = d.getElementById("matched").textContent;
    var g = byName("JavaThread::run");
    g.querySelector("rect").dispatchEvent(new w.MouseEvent("mouseover", { bubbles: true }));
    out.details = d.getElementById("details").textContent;
    g.querySelector("rect").dispatchEvent(new w.MouseEvent("click", { bubbles: true }));
    out.zoomWidth = +g.querySelector("rect").getAttribute("width");
    out.hidden = all("g.frame.hide").length;
    out.parents = all("g.frame.parent").map(function (p) { return p.querySelector("title").textContent.split(" (")[0]; }).sort().join(",");
    out.unzoomShown = !d.getElementById("unzoom").classList.contains("hide");
    d.getElementById("unzoom").dispatchEvent(new w.MouseEvent("click", { bubbles: true }));
    out.afterUnzoom = all("g.frame.hide").length;
  } catch (e) { errors.push("harness: " + e.message); }
  out.errors = errors;
  document.getElementById("out").textContent = "RESULT " + JSON.stringify(out) + " END";
});
</script></body></html>
""";

    [ChromiumFact]
    public void Script_runs_and_zoom_search_hover_work_in_chromium()
    {
        var java = FoldedReader.Read(new StringReader(File.ReadAllText(DataPath("perf-java-stacks-01-collapsed-all.txt"))));
        var stacks = java.Concat(Small()).ToList(); // 45 + 18 samples
        var tree = FlameTree.Build(stacks);

        string dir = Directory.CreateTempSubdirectory("xenprof-flame-").FullName;
        try
        {
            using (var svg = new StreamWriter(Path.Combine(dir, "flame.svg")))
            {
                SvgFlameGraph.Write(tree, svg, new SvgFlameOptions { Subtitle = "browser test" });
            }

            File.WriteAllText(Path.Combine(dir, "harness.html"), Harness);
            string dom = RunChromium(dir, "--allow-file-access-from-files", "--virtual-time-budget=5000", "--dump-dom", new Uri(Path.Combine(dir, "harness.html")).AbsoluteUri);
            var m = Regex.Match(dom, "RESULT (\\{.*\\}) END");
            Assert.True(m.Success, "no result in the dumped DOM:\n" + dom[..Math.Min(dom.Length, 2000)]);
            var r = JsonDocument.Parse(m.Groups[1].Value).RootElement;

            Assert.Empty(r.GetProperty("errors").EnumerateArray());
            Assert.True(r.GetProperty("hasApi").GetBoolean());
            Assert.Equal(tree.NodeCount, r.GetProperty("frames").GetInt32());

            // Interpreter;Interpreter: 32 samples each, nested; counted once. 32 of 63.
            Assert.Equal(100.0 * 32 / 63, r.GetProperty("match").GetDouble(), 6);
            Assert.Equal("Matched: 50.79%", r.GetProperty("matchedText").GetString());
            Assert.Equal(2, r.GetProperty("highlighted").GetInt32());
            Assert.Equal("|Search", r.GetProperty("afterClear").GetString());
            Assert.Equal("Matched: 14.29%", r.GetProperty("ctrlF").GetString()); // Foo.run: 9 of 63

            Assert.Equal("JavaThread::run (32 samples, 50.79%)", r.GetProperty("details").GetString());
            Assert.Equal(1180, r.GetProperty("zoomWidth").GetDouble(), 2);
            Assert.Equal("all,java,java_start,start_thread", r.GetProperty("parents").GetString());
            Assert.True(r.GetProperty("hidden").GetInt32() > 0);
            Assert.True(r.GetProperty("unzoomShown").GetBoolean());
            Assert.Equal(0, r.GetProperty("afterUnzoom").GetInt32());

            string png = Path.Combine(dir, "flame.png");
            RunChromium(dir, $"--screenshot={png}", "--window-size=1200,900", new Uri(Path.Combine(dir, "flame.svg")).AbsoluteUri);
            Assert.True(new FileInfo(png).Length > 10_000);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string RunChromium(string dir, params string[] args)
    {
        var psi = new ProcessStartInfo(Chromium.Path!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dir,
        };
        foreach (var a in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--user-data-dir=" + Path.Combine(dir, "profile"),
                 })
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("chromium did not finish within 60 s");
        }

        _ = stderr.Result;
        return stdout;
    }
}
