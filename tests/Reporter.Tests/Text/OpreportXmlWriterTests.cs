using System.Diagnostics;
using System.Globalization;
using System.Xml.Linq;
using XenProf.Reporter.Tests.Exports;
using XenProf.Reporter.Tests.Symbols;
using XenProf.Reporter.Text;
using XenProf.Reporter.Xml;
using Xunit;
using Xunit.Abstractions;
using static XenProf.Reporter.Tests.Text.TextReport;

namespace XenProf.Reporter.Tests.Text;

/// <summary>
/// <c>--xml</c> writes oprofile's XML report: it validates against oprofile's opreport.xsd (Data/xml/SOURCES.md) with
/// <c>xmllint --schema</c> (that step is skipped, with the reason printed, when xmllint is absent) and its counts are
/// the text report's.
/// </summary>
public sealed class OpreportXmlWriterTests(BurnerSession session, ITestOutputHelper output) : IClassFixture<BurnerSession>
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static string Schema => Path.Combine(AppContext.BaseDirectory, "Data", "xml", "opreport.xsd");

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void ValidatesAgainstOpreportXsd_AndCountsAreTheTextReports(bool details, bool exportSession)
    {
        using var exports = exportSession ? new ExportSession() : null;
        var p = exports?.Source.Profile ?? session.Profile;
        var o = new OpreportOptions { Symbols = true, Details = details, ShowAddress = details, LongFilenames = true };
        var xml = Render(w => OpreportXmlWriter.Write(p, w, o, "opreport -l --xml"));
        Validate(xml);

        var root = XDocument.Parse(xml).Root!;
        Assert.Equal("3.0", (string?)root.Attribute("schemaversion"));
        var names = root.Element("symboltable")!.Elements("symboldata").ToDictionary(d => (string)d.Attribute("id")!, d => (string)d.Attribute("name")!);
        var classes = root.Element("classes")?.Elements("class").ToDictionary(c => (string)c.Attribute("name")!, c => int.Parse((string?)c.Attribute("event") ?? "0", Inv));
        Assert.Equal(p.Events.Count > 1, classes != null);
        long Count(XElement e, int ev) => e.Elements("count").Where(c => classes == null ? ev == 0 : classes[(string)c.Attribute("class")!] == ev).Sum(c => long.Parse(c.Value, Inv));

        // The symbols in the symbol list's order, grouped by binary (one per image, in image order).
        var xmlRows = root.Elements("binary").SelectMany(b => b.Elements("symbol").Select(s => (Image: (string)b.Attribute("name")!, Symbol: names[(string)s.Attribute("idref")!], S: s))).ToList();
        var images = p.Images.ToList();
        var expected = p.Symbols.OrderBy(s => images.IndexOf(s.ImageRow)).ToList();
        Assert.Equal(expected.Select(s => (s.ImageRow.Image.Path, s.Symbol)), xmlRows.Select(r => (r.Image, r.Symbol)));
        for (int ev = 0; ev < p.Events.Count; ev++)
        {
            Assert.Equal(expected.Select(s => s.Counts.Samples[ev]), xmlRows.Select(r => Count(r.S, ev)));
            Assert.Equal(p.Images.Select(i => i.Counts.Samples[ev]), root.Elements("binary").Select(b => Count(b, ev)));
        }
        // The numbers the text report prints.
        var text = Rows(p, o with { Details = false, ShowAddress = false });
        for (int ev = 0; ev < p.Events.Count; ev++)
            Assert.Equal(text.Select(t => (t.Image, t.Symbol, t.Samples[ev])).OrderBy(t => t.ToString()),
                xmlRows.Select(r => (r.Image, (string?)r.Symbol, Count(r.S, ev))).OrderBy(t => t.ToString()));
        if (details)
        {
            var withDetails = p.Symbols.Where(s => s.Details.Count > 0).ToList();
            output.WriteLine($"{withDetails.Count} of {p.Symbols.Count} symbols have per-address details");
            Assert.NotEmpty(withDetails);
            var table = root.Element("detailtable")!;
            Assert.Equal(withDetails.Count, table.Elements("symboldetails").Count());
            foreach (var sd in table.Elements("symboldetails"))
            {
                var sym = xmlRows.Single(r => (string)r.S.Attribute("idref")! == (string)sd.Attribute("id")!);
                for (int ev = 0; ev < p.Events.Count; ev++)
                    Assert.Equal(Count(sym.S, ev), sd.Elements("detaildata").Sum(d => Count(d, ev)));
                var ids = sd.Elements("detaildata").Select(d => int.Parse((string)d.Attribute("id")!, Inv)).ToList();
                Assert.Equal(ids.First().ToString(Inv), (string?)sym.S.Attribute("detaillo"));
                Assert.Equal(ids.Last().ToString(Inv), (string?)sym.S.Attribute("detailhi"));
            }
        }
    }

    [Fact]
    public void HexBinaryAndNcNames()
    {
        Assert.Equal("00", OpreportXmlWriter.HexBinary(0));
        Assert.Equal("0abc", OpreportXmlWriter.HexBinary(0xabc));
        Assert.Equal("Intel_R__Xeon_R__CPU_E5-2680_v4__2.40GHz", OpreportXmlWriter.NcName("Intel(R) Xeon(R) CPU E5-2680 v4 @2.40GHz"));
        Assert.Equal("_86_64", OpreportXmlWriter.NcName("86_64"));
        Assert.Equal("unknown", OpreportXmlWriter.NcName(" "));
    }

    private void Validate(string xml)
    {
        if (!Tools.Has("xmllint"))
        {
            output.WriteLine("SKIPPED schema validation: xmllint is not installed (apt-get install -y libxml2-utils)");
            return;
        }
        var file = Path.Combine(session.Dir, $"report-{Guid.NewGuid():n}.xml");
        File.WriteAllText(file, xml);
        var psi = new ProcessStartInfo("xmllint", ["--noout", "--schema", Schema, file]) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var proc = Process.Start(psi)!;
        var err = proc.StandardError.ReadToEnd();
        proc.WaitForExit();
        Assert.True(proc.ExitCode == 0, $"xmllint: {err}\n{xml[..Math.Min(xml.Length, 3000)]}");
        Assert.Contains("validates", err);
    }
}
