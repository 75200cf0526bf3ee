using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// opreport's percentages weigh each sample by its period, as perf report's do (tools/perf/util/hist.c sums each
/// entry's <c>period</c> and divides by the event's total period): the built-in workload is recorded here with
/// <c>perf record -F 999</c>, whose samples each carry a different period, and every (image, symbol) row of
/// <c>xenoprof opreport -l FILE</c> must give the share <c>perf report --stdio --no-children --sort dso,sym -n</c> gives on
/// the same file within 0.01 percentage points (perf prints two decimals), with the same sample count, per event.
/// </summary>
[Collection(PerfCollection.Name)]
public sealed class PeriodWeightingTests(ITestOutputHelper output)
{
    [PerfRecordFact]
    [InlineData("frequency", "-B -F 999 -e cpu-clock", new[] { "cpu-clock" })]
    [InlineData("multi-event", "-B -F 999 -e cpu-clock,task-clock", new[] { "cpu-clock", "task-clock" })]
    public void OpreportSharesEqualPerfReportShares(string name, string perfArgs, string[] events)
    {
        var dir = Cli.NewSessionDir();
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, name + ".data");
        try
        {
            var rec = PerfImportComparisonTests.Sh($"perf record {perfArgs} -o {file} -- {Cli.Workload}");
            Assert.True(rec.Code == 0, $"perf record failed: {rec.Err}");
            var report = PerfImportComparisonTests.Sh($"perf report -i {file} --stdio --no-children --sort dso,sym -g none -n");
            Assert.True(report.Code == 0, $"perf report failed: {report.Err}");
            var perf = ParsePerf(report.Out);
            var r = Cli.Run("opreport", "-l", file);
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Contains("n_eff", r.Stdout);
            var ours = ParseOpreport(r.Stdout, events.Length);

            for (int e = 0; e < events.Length; e++)
            {
                Assert.True(perf.TryGetValue(events[e], out var rows), $"perf report has no section for {events[e]}:\n{report.Out}");
                // A -F recording's periods differ: the shares are not the sample counts' shares.
                long periods = rows.Values.Select(v => v.Samples).Sum();
                output.WriteLine($"{name} {events[e]}: {rows.Count} rows, {periods} samples");
                foreach (var (key, (samples, pct, merged)) in rows)
                {
                    Assert.True(ours.TryGetValue((e, key), out var o), $"{events[e]}: perf row {key} ({samples} samples, {pct}%) is missing from opreport:\n{r.Stdout}");
                    output.WriteLine($"  {key}: perf {samples} {pct:0.00}%, ours {o.Samples} {o.Percent:0.0000}%");
                    Assert.Equal(samples, o.Samples);
                    // perf rounds each row it prints to 0.01: a key that merges rows sums their roundings.
                    Assert.True(Math.Abs(o.Percent - pct) <= 0.01 * merged, $"{events[e]} {key}: opreport {o.Percent:0.0000}% vs perf report {pct:0.00}% ({merged} rows)");
                }
                // And no row perf does not list (rows with samples in this event).
                foreach (var ((oe, key), o) in ours)
                    if (oe == e && o.Samples > 0) Assert.True(rows.ContainsKey(key), $"{events[e]}: opreport row {key} ({o.Samples} samples) is not in perf report");
            }
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
    }

    /// <summary>
    /// perf report's rows per event section (<c># Samples: N of event 'NAME'</c>): "dso symbol" → (samples, percent, rows
    /// merged into the key: kernel aliases, unnamed addresses as <c>(no symbols)</c>).
    /// </summary>
    internal static Dictionary<string, Dictionary<string, (long Samples, double Percent, int Rows)>> ParsePerf(string text)
    {
        var result = new Dictionary<string, Dictionary<string, (long, double, int)>>();
        Dictionary<string, (long, double, int)>? current = null;
        foreach (var line in text.Split('\n'))
        {
            var head = Regex.Match(line, @"^# Samples: .* of event '([^']+)'");
            if (head.Success) { result[head.Groups[1].Value] = current = new(); continue; }
            var m = Regex.Match(line, @"^\s+([\d.]+)%\s+(\d+)\s+(.+?)\s+\[(.)\] (.+?)\s*$");
            if (!m.Success || current == null) continue;
            string dso = m.Groups[3].Value, sym = m.Groups[5].Value;
            if (sym.StartsWith("0x", StringComparison.Ordinal)) sym = XenProf.Reporter.Profile.Profile.NoSymbols;
            var key = dso + " " + PerfImportComparisonTests.Canonical(dso, sym);
            var (n, p, rows) = current.GetValueOrDefault(key);
            current[key] = (n + long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), p + double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), rows + 1);
        }
        return result;
    }

    /// <summary>opreport -l rows: per event index, "image symbol" → (samples, percent); columns are samples, %, ± per event.</summary>
    internal static Dictionary<(int, string), (long Samples, double Percent)> ParseOpreport(string text, int events)
    {
        var rows = new Dictionary<(int, string), (long, double)>();
        bool inTable = false;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("samples", StringComparison.Ordinal)) { inTable = true; continue; }
            if (!inTable || line.Trim().Length == 0) continue;
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string image = f[3 * events], symbol = string.Join(' ', f.Skip(3 * events + 1));
            var key = image + " " + PerfImportComparisonTests.Canonical(image, symbol);
            for (int e = 0; e < events; e++)
            {
                var (n, p) = rows.GetValueOrDefault((e, key));
                rows[(e, key)] = (n + long.Parse(f[3 * e], CultureInfo.InvariantCulture), p + double.Parse(f[3 * e + 1], CultureInfo.InvariantCulture));
            }
        }
        return rows;
    }
}
