using XenProf.Reporter.Profile;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// One perf recording of the built-in workload read two ways: the perf.data itself, and the text
/// <c>perf script -F comm,pid,tid,time,event,ip,sym,dso</c> (or with its default fields) prints from it. <c>opreport -l</c> on each gives the same
/// samples per image and per workload symbol (the text's names are perf's, the perf.data's are ours from the same
/// symbol table), and the text's callchains survive into <c>flame</c>.
/// </summary>
[Collection(PerfCollection.Name)]
public sealed class PerfScriptComparisonTests(ITestOutputHelper output)
{
    [PerfRecordFact]
    [InlineData("callgraph", "-B -g -e cpu-clock", "-F comm,pid,tid,time,event,ip,sym,dso")]
    [InlineData("flat", "-B -e cpu-clock", "-F comm,pid,tid,time,event,ip,sym,dso")]
    [InlineData("callgraph-default-fields", "-B -g -e cpu-clock", "")]
    public void PerfScriptImport_EqualsPerfDataImport(string name, string perfArgs, string fields)
    {
        var dir = Cli.NewSessionDir();
        Directory.CreateDirectory(dir);
        var data = Path.Combine(dir, name + ".data");
        var text = Path.Combine(dir, name + ".perf.txt");
        try
        {
            var rec = PerfImportComparisonTests.Sh($"perf record {perfArgs} -o {data} -- {Cli.Workload}");
            Assert.True(rec.Code == 0, $"perf record failed: {rec.Err}");
            // perf 6.1 here now and then aborts in util/build-id.c ("stack smashing detected") on a loaded machine;
            // a run in a fresh build-id cache of its own usually goes through.
            (int Code, string Out, string Err) script = default;
            for (int attempt = 0; attempt < 3; attempt++)
            {
                var cache = Directory.CreateTempSubdirectory("xenprof-buildid-").FullName;
                script = PerfImportComparisonTests.Sh($"PERF_BUILDID_DIR={cache} perf script -i {data} {fields} > {text}");
                if (script.Code == 0) break;
                output.WriteLine($"perf script attempt {attempt + 1} failed: {script.Err}");
            }
            Assert.True(script.Code == 0, $"perf script failed: {script.Err}");

            var fromText = Cli.Run("opreport", "-l", text);
            Assert.True(fromText.ExitCode == 0, fromText.Stderr);
            var fromData = Cli.Run("opreport", "-l", data);
            Assert.True(fromData.ExitCode == 0, fromData.Stderr);
            output.WriteLine(fromText.Stdout);
            var (textImages, textSymbols) = Totals(text);
            var (dataImages, dataSymbols) = Totals(data);
            output.WriteLine($"text: {string.Join(", ", textImages)}\ndata: {string.Join(", ", dataImages)}");
            Assert.Equal(dataImages, textImages);
            Assert.Equal(dataSymbols, textSymbols);
            Assert.Equal("hot_sixty", textSymbols.MaxBy(kv => kv.Value).Key);

            if (perfArgs.Contains("-g"))
            {
                var folded = Path.Combine(dir, "text.folded");
                var flame = Cli.Run("flame", text, "-o", folded);
                Assert.True(flame.ExitCode == 0, flame.Stderr);
                Assert.Contains(File.ReadLines(folded), l => l.StartsWith("hotloop;", StringComparison.Ordinal) && l.Contains(";main;", StringComparison.Ordinal) && l.Contains(";hot_sixty ", StringComparison.Ordinal));
            }
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
    }

    /// <summary>Samples per image (base name) and per symbol of the workload, from the file's cached session.</summary>
    private static (SortedDictionary<string, long> Images, SortedDictionary<string, long> Symbols) Totals(string file)
    {
        var profile = SessionProfiles.Load(file + ".xenoprof", new ProfileOptions());
        var images = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var symbols = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var row in profile.Symbols)
        {
            var image = row.ImageRow.Image.Path.StartsWith('[') ? row.ImageRow.Image.Path : Path.GetFileName(row.ImageRow.Image.Path);
            images[image] = images.GetValueOrDefault(image) + row.Counts.Total;
            if (image == "hotloop") symbols[row.Symbol] = symbols.GetValueOrDefault(row.Symbol) + row.Counts.Total;
        }
        return (images, symbols);
    }
}

/// <summary>
/// Test classes that run Linux perf, or .NET programs writing JIT perf maps: never at the same time, as perf 6.1
/// here now and then aborts in util/build-id.c ("stack smashing detected") when they overlap.
/// </summary>
[CollectionDefinition(PerfCollection.Name)]
public sealed class PerfCollection
{
    public const string Name = "linux perf";
}
