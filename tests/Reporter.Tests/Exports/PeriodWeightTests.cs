using System.IO.Compression;
using System.Text.Json;
using XenProf.Reporter.Flame;
using XenProf.Reporter.Profile;
using XenProf.Reporter.Text;
using XenProf.Sampler.Store;
using Xunit;

namespace XenProf.Reporter.Tests.Exports;

/// <summary>
/// Samples whose periods differ, as a frequency-mode (<c>perf record -F</c>) recording's do: stack <c>a</c> has three
/// samples of 100 ns, stack <c>b</c> one of 900 ns. Weighed by period (the default, as perf report and
/// stackcollapse-perf.pl weigh), <c>b</c> is 75% of the time though it is 25% of the samples; every format says so, and
/// says 25% with <c>Weight = Samples</c>. Error bars use the effective sample count (Σp)²/Σp² = 1200²/840000.
/// </summary>
public sealed class PeriodWeightTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xenprof-period-").FullName;
    private readonly FlameSource _source;

    public PeriodWeightTests()
    {
        using (var store = SessionStore.Create(Path.Combine(_dir, StoreSchema.FileName)))
        {
            var ev = store.AddEvent(new StoredEvent("cpu-clock", 1, 0, 1000, 0, true, true, "ns", "perf.data event, sampled at 1000 Hz")).Id;
            store.SetProcess(0, 10, 1, "prog");
            var img = store.InternImage("/bin/prog", ImageKind.Elf, null);
            var a = store.InternStack([store.InternFrame(img, 0xa)]);
            var b = store.InternStack([store.InternFrame(img, 0xb)]);
            for (int i = 0; i < 3; i++) store.AddSample(new StoredSample(i, 0, 0, 10, 10, ev, a, SampleMode.User, 1, default, 100));
            store.AddSample(new StoredSample(3, 0, 0, 10, 10, ev, b, SampleMode.User, 1, default, 900));
        }
        using var read = SessionStore.OpenRead(Path.Combine(_dir, StoreSchema.FileName));
        _source = new FlameSource(ProfileBuilder.Build(read, new Symbolizer(), new ProfileOptions { WithStacks = true, WithSamples = true }));
    }

    public void Dispose() => Directory.Delete(_dir, true);

    private sealed class Symbolizer : IFrameSymbolizer
    {
        public string? Symbolize(StoredImage image, ulong offset) => offset == 0xa ? "a" : "b";
        public IReadOnlyList<string> Warnings => [];
    }

    private string Export(FlameFormat format, FoldedWeight weight)
    {
        var path = Path.Combine(_dir, $"{format}.{weight}");
        using (var f = File.Create(path))
            FlameExport.Write(_source, format, f, new FlameExportOptions { Weight = weight, Folded = new FoldedOptions { PerfScriptRules = format == FlameFormat.Folded, Weight = weight } });
        return path;
    }

    [Fact]
    public void Opreport_shares_are_of_the_period_and_errors_of_effective_samples()
    {
        var p = _source.Profile;
        var b = p.Symbols.Single(s => s.Symbol == "b");
        Assert.Equal(1, b.Counts.Samples[0]);
        Assert.Equal(900, b.Counts.Period[0]);
        double nEff = 1200.0 * 1200 / (3 * 100 * 100 + 900 * 900);
        Assert.Equal(nEff, p.EffectiveSamples[0], 9);
        var (pct, err) = p.PeriodShare(b.Counts, 0);
        Assert.Equal(75, pct, 9);
        Assert.Equal(100 * Math.Sqrt(0.75 * 0.25 / nEff), err, 9);

        var w = new StringWriter();
        OpreportWriter.Write(p, w, new OpreportOptions { Symbols = true });
        var text = w.ToString();
        Assert.Contains("n_eff = (Σperiod)²/Σperiod² samples: cpu-clock 1.7 of 4", text);
        // The samples column stays the count of samples.
        Assert.Contains(Row(1, 75), text);
        Assert.Contains(Row(3, 25), text);
    }

    private static string Row(long samples, double pct) => $"\n{samples,-9}{OpreportWriter.Pct(pct),-9}";

    [Theory]
    [InlineData(FoldedWeight.Period, 300, 900)]
    [InlineData(FoldedWeight.Samples, 3, 1)]
    public void Every_format_weighs_by_the_chosen_weight(FoldedWeight weight, long a, long b)
    {
        // folded, as stackcollapse-perf.pl would fold perf script's output of these samples
        var folded = File.ReadAllLines(Export(FlameFormat.Folded, weight));
        Assert.Equal([$"prog;a {a}", $"prog;b {b}"], folded);

        // svg: the frames' titles carry the count in its unit
        var svg = File.ReadAllText(Export(FlameFormat.Svg, weight));
        string unit = weight == FoldedWeight.Period ? "ns" : "samples";
        Assert.Contains($"<title>b ({b} {unit}, 75.00%)</title>".Replace("75.00", weight == FoldedWeight.Period ? "75.00" : "25.00"), svg);

        // html is serve's report offline (Web.OfflineReport): it counts samples as serve does, whatever the weight.

        // speedscope: one weight per sample
        var ss = JsonDocument.Parse(File.ReadAllText(Export(FlameFormat.Speedscope, weight))).RootElement;
        var prof = ss.GetProperty("profiles")[0];
        Assert.Equal(weight == FoldedWeight.Period ? [100L, 100, 100, 900] : [1L, 1, 1, 1], prof.GetProperty("weights").EnumerateArray().Select(x => x.GetInt64()));
        Assert.Equal(weight == FoldedWeight.Period ? "nanoseconds" : "none", prof.GetProperty("unit").GetString());

        // chrome: each event's weight, with both values in its args
        var chrome = JsonDocument.Parse(File.ReadAllText(Export(FlameFormat.Chrome, weight))).RootElement;
        var samples = chrome.GetProperty("traceEvents").EnumerateArray().Where(e => e.GetProperty("ph").GetString() == "X").ToList();
        Assert.Equal(a + b, samples.Sum(e => e.GetProperty("args").GetProperty("weight").GetInt64()));
        Assert.Equal(1200, samples.Sum(e => e.GetProperty("args").GetProperty("period").GetInt64()));

        // pprof: samples/count and cpu-clock/nanoseconds, the default type following the weight
        using var gz = new GZipStream(File.OpenRead(Export(FlameFormat.Pprof, weight)), CompressionMode.Decompress);
        var pp = XenProf.Reporter.Flame.Pprof.Profile.Parser.ParseFrom(gz);
        Assert.Equal(["samples/count", "cpu-clock/nanoseconds"], pp.SampleType.Select(t => pp.StringTable[(int)t.Type] + "/" + pp.StringTable[(int)t.Unit]));
        Assert.Equal(weight == FoldedWeight.Period ? "cpu-clock" : "samples", pp.StringTable[(int)pp.DefaultSampleType]);
        Assert.Equal(4, pp.Sample.Sum(s => s.Value[0]));
        Assert.Equal(1200, pp.Sample.Sum(s => s.Value[1]));
    }
}
