using System.Globalization;
using CsvHelper;
using XenProf.Reporter.Csv;
using XenProf.Reporter.Tests.Exports;
using XenProf.Reporter.Text;
using Xunit;
using Xunit.Abstractions;
using static XenProf.Reporter.Tests.Text.TextReport;

namespace XenProf.Reporter.Tests.Text;

/// <summary>
/// <c>--csv</c> lists what the text report lists: read back through CsvHelper, it has the text report's rows (same
/// order, same threshold, samples, percent and error, image, symbol), one record per (row, event).
/// </summary>
public sealed class OpreportCsvWriterTests(BurnerSession session, ITestOutputHelper output) : IClassFixture<BurnerSession>
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static (IReadOnlyList<string> Header, List<Dictionary<string, string>> Rows) ReadCsv(string csv)
    {
        using var r = CsvReader.Create(new StringReader(csv), new CsvReaderOptions { HasHeader = true }, leaveOpen: false);
        var rows = new List<Dictionary<string, string>>();
        var header = r.Headers.ToList();
        while (r.Read()) rows.Add(header.ToDictionary(h => h, h => r.GetString(h)));
        return (header, rows);
    }

    [Theory]
    [InlineData(false, 0.0)]
    [InlineData(true, 0.0)]
    [InlineData(true, 1.0)]
    public void ReadBack_EqualsTheTextReportsRows(bool symbols, double threshold)
    {
        var o = new OpreportOptions { Symbols = symbols, Threshold = threshold };
        var text = Rows(session.Profile, o);
        var csvText = Render(w => OpreportCsvWriter.Write(session.Profile, w, o));
        Assert.Contains("\r\n", csvText); // RFC 4180 line ends
        var (header, rows) = ReadCsv(csvText);

        Assert.Equal(symbols ? ["event", "samples", "percent", "stderr_pp", "image", "symbol"] : new[] { "event", "samples", "percent", "stderr_pp", "image" }, header);
        var events = session.Profile.Events;
        output.WriteLine($"{text.Count} rows, events {string.Join(", ", events.Select(e => e.Name))}");
        Assert.True(text.Count >= (symbols ? 3 : 2), $"only {text.Count} rows");
        Assert.Equal(text.Count * events.Count, rows.Count);
        for (int i = 0; i < text.Count; i++)
            for (int e = 0; e < events.Count; e++)
            {
                var c = rows[i * events.Count + e];
                Assert.Equal(events[e].Name, c["event"]);
                Assert.Equal(text[i].Samples[e], long.Parse(c["samples"], Inv));
                Assert.Equal(text[i].Percent[e], Math.Round(double.Parse(c["percent"], Inv), 3), 3);
                Assert.Equal(text[i].Error[e], Math.Round(double.Parse(c["stderr_pp"], Inv), 3), 3);
                Assert.DoesNotContain("%", c["percent"]);
                Assert.Equal(text[i].Image, c["image"]);
                if (symbols) Assert.Equal(text[i].Symbol, c["symbol"]);
            }
        if (threshold > 0) Assert.True(text.Count < session.Profile.Symbols.Count, "the threshold hid nothing");
        for (int e = 0; e < events.Count && threshold == 0; e++)
            Assert.Equal(session.Profile.Totals[e], rows.Where(r => r["event"] == events[e].Name).Sum(r => long.Parse(r["samples"], Inv)));
    }

    [Fact]
    public void Details_SymbolRowsThenTheirInstructions_AddressesAsOpreportPrintsThem()
    {
        var o = new OpreportOptions { Details = true, ErrorBars = false };
        var (header, rows) = ReadCsv(Render(w => OpreportCsvWriter.Write(session.Profile, w, o)));
        Assert.Equal(["event", "level", "vma", "samples", "percent", "image", "symbol"], header);
        var p = session.Profile;
        var ev0 = p.Events[0].Name;
        rows = rows.Where(r => r["event"] == ev0).ToList();
        var symbolRows = rows.Where(r => r["level"] == "symbol").ToList();
        Assert.Equal(p.Symbols.Select(s => (s.Symbol, s.Counts.Samples[0], "0x" + s.Start.ToString("x16", Inv))),
            symbolRows.Select(r => (r["symbol"], long.Parse(r["samples"], Inv), r["vma"])));
        output.WriteLine($"{rows.Count - symbolRows.Count} instruction rows under {symbolRows.Count} symbols");
        Assert.True(rows.Count > symbolRows.Count, "no instruction rows");
        // Each symbol's instruction rows follow it and add up to it.
        string? current = null;
        long sum = 0, expected = 0;
        foreach (var r in rows.Append(null))
        {
            if (r == null || r["level"] == "symbol")
            {
                if (current != null) Assert.Equal(expected, sum);
                if (r == null) break;
                current = r["symbol"]; expected = long.Parse(r["samples"], Inv); sum = 0;
                continue;
            }
            Assert.Equal("instruction", r["level"]);
            Assert.Equal(current, r["symbol"]);
            Assert.Matches("^0x[0-9a-f]{16}$", r["vma"]);
            sum += long.Parse(r["samples"], Inv);
        }
    }

    [Fact]
    public void ShowAddress_AddsTheVmaColumnOfTheTextReport()
    {
        var o = new OpreportOptions { ShowAddress = true, ErrorBars = false };
        var (header, rows) = ReadCsv(Render(w => OpreportCsvWriter.Write(session.Profile, w, o)));
        Assert.Equal(["event", "vma", "samples", "percent", "image", "symbol"], header);
        // The text report's -w column: 16 hex digits before the counts.
        var text = Render(w => OpreportWriter.Write(session.Profile, w, o with { NoHeader = true })).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("vma", text[0]);
        var ev0 = session.Profile.Events[0].Name;
        Assert.Equal(text.Skip(1).Select(l => "0x" + l[..16]), rows.Where(r => r["event"] == ev0).Select(r => r["vma"]));
    }

    [Fact]
    public void SeveralEvents_OneRecordPerRowAndEvent()
    {
        using var s = new ExportSession();
        var p = s.Source.Profile;
        Assert.Equal(2, p.Events.Count);
        var (_, rows) = ReadCsv(Render(w => OpreportCsvWriter.Write(p, w, new OpreportOptions { Symbols = true })));
        Assert.Equal(p.Symbols.Count * 2, rows.Count);
        for (int e = 0; e < 2; e++)
            Assert.Equal(p.Totals[e], rows.Where(r => r["event"] == p.Events[e].Name).Sum(r => long.Parse(r["samples"], Inv)));
        Assert.Equal(p.Symbols.SelectMany(r => new[] { r.Symbol, r.Symbol }), rows.Select(r => r["symbol"]));
    }

    [Fact]
    public void FieldsWithCommasOrQuotes_AreQuotedAsRfc4180Says()
    {
        // Managed signatures hold commas ("(class System.Array,class System.Array,int32)"): they must come back whole.
        var (_, rows) = ReadCsv(Render(w => OpreportCsvWriter.Write(session.Profile, w, new OpreportOptions { Symbols = true })));
        Assert.Contains(rows, r => r["symbol"].Contains(','));
        Assert.Equal(session.Profile.Symbols.Select(s => s.Symbol), rows.Where((_, i) => i % session.Profile.Events.Count == 0).Select(r => r["symbol"]));
    }
}
