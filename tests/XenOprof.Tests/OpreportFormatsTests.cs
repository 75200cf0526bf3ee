using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// <c>xenoprof opreport --csv</c> / <c>--xml</c> on an imported .nettrace (a copy of
/// tests/Sampler.Tests/Data/nettrace/burner-2s.nettrace): the CSV has its header and the text report's samples; the XML
/// validates against oprofile's opreport.xsd (tests/Reporter.Tests/Data/xml) when xmllint is installed; asking for
/// both formats, or for CSV with <c>--domain=all</c>, is a user error.
/// </summary>
public sealed class OpreportFormatsTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xenprof-opreport-formats-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string Trace()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d != null && !File.Exists(Path.Combine(d.FullName, "XenProf.sln"))) d = d.Parent;
        var copy = Path.Combine(_dir, "burner-2s.nettrace");
        File.Copy(Path.Combine(d!.FullName, "tests", "Sampler.Tests", "Data", "nettrace", "burner-2s.nettrace"), copy);
        return copy;
    }

    [Fact]
    public void Csv_HeaderThenTheTextReportsSamples()
    {
        var trace = Trace();
        var text = Cli.Run("opreport", "-l", "--no-header", trace);
        var csv = Cli.Run("opreport", "-l", "--csv", trace);
        Assert.True(csv.ExitCode == 0, csv.Stderr);
        var lines = csv.Stdout.Split(["\r\n", "\n"], StringSplitOptions.RemoveEmptyEntries); // Cli.Run reads stdout line by line
        Assert.Equal("event,samples,percent,stderr_pp,image,symbol", lines[0]);
        // First event's samples per symbol, in the text report's order.
        var textSamples = text.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(' ', 2)[0]).ToList();
        var firstEvent = lines[1].Split(',')[0];
        var csvSamples = lines.Skip(1).Where(l => l.StartsWith(firstEvent + ",", StringComparison.Ordinal)).Select(l => l.Split(',')[1]).ToList();
        Assert.Equal(textSamples, csvSamples);
    }

    [Fact]
    public void Xml_ValidatesAgainstOpreportXsd()
    {
        var xml = Cli.Run("opreport", "--xml", "-d", Trace());
        Assert.True(xml.ExitCode == 0, xml.Stderr);
        Assert.StartsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", xml.Stdout);
        Assert.Contains("<profile schemaversion=\"3.0\"", xml.Stdout);
        AssertValidXml(xml.Stdout, Path.Combine(_dir, "report.xml"), output);
    }

    /// <summary>Validates <paramref name="xml"/> (written to <paramref name="file"/>) against oprofile's opreport.xsd with
    /// xmllint; without xmllint it says so on <paramref name="output"/> and returns.</summary>
    internal static void AssertValidXml(string xml, string file, ITestOutputHelper output)
    {
        if (!(Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(p => p.Length > 0 && File.Exists(Path.Combine(p, "xmllint"))))
        {
            output.WriteLine("SKIPPED schema validation: xmllint is not installed (apt-get install -y libxml2-utils)");
            return;
        }
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d != null && !File.Exists(Path.Combine(d.FullName, "XenProf.sln"))) d = d.Parent;
        File.WriteAllText(file, xml);
        var psi = new ProcessStartInfo("xmllint", ["--noout", "--schema", Path.Combine(d!.FullName, "tests", "Reporter.Tests", "Data", "xml", "opreport.xsd"), file])
            { RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, err);
    }

    [Theory]
    [InlineData("--csv", "--xml")]
    [InlineData("--csv", "--domain=all")]
    public void ContradictoryOptions_AreAUserError(string a, string b)
    {
        var r = Cli.Run("opreport", a, b, Trace());
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("xenoprof opreport:", r.Stderr);
        Assert.DoesNotContain("internal error", r.Stderr);
    }
}
