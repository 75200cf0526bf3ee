using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using XenProf.Hypervisor.Binary;
using XenProf.Hypervisor.PerfEvents.Records;
using XenProf.Sampler.Import;
using XenProf.Sampler.Import.PerfData;
using XenProf.Sampler.Session;
using XenProf.Sampler.Store;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.Sampler.Tests.Import;

/// <summary>
/// Every perf.data of the peer corpus against the oracles perf made on it: record counts per type
/// (<c>perf report --stats</c>), sample IPs in file order (<c>perf report -D</c>) and sample counts per dso
/// (<c>perf report --sort dso -g none -n</c>). Files without a full oracle must still read without an
/// unhandled exception; the fuzz corpus must be read or rejected with <see cref="MalformedDataException"/>.
/// </summary>
public sealed class PerfDataConformanceTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> Files()
    {
        var rows = PeerData.Manifest().ToList();
        if (rows.Count == 0) return [["(absent)", ""]];
        return rows.Select(r => new object[] { r.File, r.Flags });
    }

    /// <summary>Collects what the reader delivers, in file order.</summary>
    private sealed class Collector : IPerfDataSink
    {
        public readonly List<ulong> Ips = new();
        private (ulong, ulong)? _last;
        public void OnSample(int eventIndex, in SampleRecord sample)
        {
            // A sample with group read values arrives once per member event; perf -D prints the record once.
            if (sample.ReadValues.Length > 1 && _last == (sample.Time, sample.Ip)) return;
            _last = (sample.Time, sample.Ip);
            Ips.Add(sample.Ip);
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void RecordsAndSampleIpsMatchPerf(string file, string flags)
    {
        if (PeerData.Root == null) { output.WriteLine("skipped: " + PeerData.Absent); return; }
        var path = PeerData.Materialize(file);
        using var reader = PerfDataReader.Open(path);
        var sink = new Collector();
        var sw = Stopwatch.StartNew();
        var result = reader.Read(sink);
        output.WriteLine($"{file}: {result.Records} records, {result.Samples} samples in {sw.ElapsedMilliseconds} ms; error: {result.Error?.Message ?? "none"}");
        if (flags.Contains("NO-ORACLE") || flags.Contains("PARTIAL"))
        {
            Assert.True(result.Samples > 0 || result.Error != null, "read nothing and reported no error");
            return;
        }
        Assert.Null(result.Error);

        var stats = PeerData.Oracle(file, ".stats.txt");
        Assert.NotNull(stats);
        var expected = ParseStats(stats!);
        var actual = result.RecordsByType.ToDictionary(kv => StatName(kv.Key), kv => kv.Value);
        // perf 6.1 stops counting early on pipe files with TRACING_DATA (SOURCES.md); the dump is authoritative there.
        if (!file.EndsWith("probe.data.stream", StringComparison.Ordinal))
            Assert.Equal(Format(expected), Format(actual));

        var dump = PeerData.Oracle(file, ".dump.txt");
        if (dump == null) { output.WriteLine($"no dump oracle for {file}; sample IPs not compared"); return; }
        var ips = Regex.Matches(dump!, @"PERF_RECORD_SAMPLE\([^)]*\): -?\d+/-?\d+: (0x[0-9a-f]+)")
            .Select(m => ulong.Parse(m.Groups[1].Value.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToList();
        // perf -D prints samples as it delivers them, in time order; the reader gives file order.
        Assert.Equal(ips.Count, sink.Ips.Count);
        ips.Sort();
        sink.Ips.Sort();
        Assert.Equal(ips, sink.Ips);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void ImportedDsoCountsMatchPerfReport(string file, string flags)
    {
        if (PeerData.Root == null) { output.WriteLine("skipped: " + PeerData.Absent); return; }
        if (flags.Contains("NO-ORACLE") || flags.Contains("PARTIAL")) { output.WriteLine($"skipped: {file} has no full oracle ({flags})"); return; }
        if (Events(file).Contains("BRANCH_STACK"))
        {
            // perf report switches to its branch view on files with branch stacks: its counts are per branch entry.
            output.WriteLine($"skipped: {file} has branch stacks; perf's report counts branches there, not samples");
            return;
        }
        if (Types(file).Contains("AUXTRACE"))
        {
            output.WriteLine($"skipped: {file} carries an instruction trace (AUX); perf synthesizes samples from it, which XenProf does not decode");
            return;
        }
        var oracle = PeerData.Oracle(file, ".report-dso-flat.txt");
        if (oracle == null) { output.WriteLine($"skipped: no dso report oracle for {file}"); return; }
        var dir = new SessionDirectory(Path.Combine(Path.GetTempPath(), "xenprof-conf-" + Guid.NewGuid().ToString("N")[..8]));
        try
        {
            var r = TraceImport.Import(PeerData.Materialize(file), dir);
            Assert.Null(r.Error);
            using var store = SessionStore.OpenRead(dir.StorePath);
            Assert.Empty(store.Validate());
            var expected = new SortedDictionary<string, long>(StringComparer.Ordinal);
            // One line per dso: a percentage and a count per event of a group (perf report --group), then the name.
            foreach (Match m in Regex.Matches(oracle, @"^\s+(?:[\d.]+%\s+)+((?:\d+\s+)+)(.+?)\s*$", RegexOptions.Multiline))
            {
                long n = m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Sum(x => long.Parse(x, CultureInfo.InvariantCulture));
                expected[m.Groups[2].Value] = expected.GetValueOrDefault(m.Groups[2].Value) + n;
            }
            // perf 6.12 (which made this oracle for files perf 6.1 cannot read) calls the kernel [kernel.vmlinux].
            if (expected.Remove("[kernel.vmlinux]", out var vmlinux)) expected["[kernel.kallsyms]"] = expected.GetValueOrDefault("[kernel.kallsyms]") + vmlinux;
            var actual = DsoCounts(store);
            output.WriteLine($"{file}: expected {Format(expected)}");
            output.WriteLine($"{file}: actual   {Format(actual)}");
            Assert.Equal(Format(expected), Format(actual));
        }
        finally { try { Directory.Delete(dir.Path, true); } catch (IOException) { } }
    }

    [Fact]
    public void FuzzCorpusIsReadOrRejectedWithLocation()
    {
        if (PeerData.Root == null) { output.WriteLine("skipped: " + PeerData.Absent); return; }
        var files = Directory.GetFiles(Path.Combine(PeerData.Root, "perf-data-converter", "fuzz"))
            .Append(Path.Combine(PeerData.Root, "perf-data-converter", "quipper", "perf.data.piped.corrupted.zero_size_sample-3.2"))
            .Append(PeerData.Materialize("hotspot/perf.data.broken.gz"));
        foreach (var f in files)
        {
            var sw = Stopwatch.StartNew();
            var dir = new SessionDirectory(Path.Combine(Path.GetTempPath(), "xenprof-fuzz-" + Guid.NewGuid().ToString("N")[..8]));
            try
            {
                var r = TraceImport.Import(f, dir);
                output.WriteLine($"{Path.GetFileName(f)}: read, {r.Samples} samples; {r.Error?.Message ?? "no error"}");
                if (r.Error != null) Assert.Contains("offset 0x", r.Error.Message);
            }
            catch (MalformedDataException e)
            {
                output.WriteLine($"{Path.GetFileName(f)}: rejected: {e.Message}");
                Assert.Equal(f, e.Path);
                Assert.False(string.IsNullOrEmpty(e.Structure));
            }
            finally { try { Directory.Delete(dir.Path, true); } catch (IOException) { } }
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"{f} took {sw.Elapsed}");
        }
    }

    /// <summary>Samples per dso name as perf's short names print them (file basename, or the bracketed pseudo name).</summary>
    internal static SortedDictionary<string, long> DsoCounts(SessionStore store)
    {
        var images = store.ReadImages();
        var frames = store.ReadFrames();
        var stacks = store.ReadStacks();
        var d = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var t in store.ReadStackTotals())
        {
            var img = images[frames[stacks[t.Stack].Frame].Image];
            var name = img.Path.StartsWith('[') ? img.Path : Path.GetFileName(img.Path);
            var jit = Regex.Match(img.Path, @"^/tmp/perf-(\d+)\.map$");
            if (jit.Success) name = "[JIT] tid " + jit.Groups[1].Value;
            d[name] = d.GetValueOrDefault(name) + t.Samples;
        }
        return d;
    }

    private static string Events(string file) => ManifestField(file, 9);
    private static string Types(string file) => ManifestField(file, 12);

    private static string ManifestField(string file, int index)
    {
        foreach (var line in File.ReadLines(Path.Combine(PeerData.Root!, "MANIFEST-perf-data.tsv")))
        {
            var f = line.Split('\t');
            if (f[0] == file && f.Length > index) return f[index];
        }
        return "";
    }

    private static Dictionary<string, long> ParseStats(string text)
    {
        var d = new Dictionary<string, long>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Contains(" stats:") && !line.StartsWith("Aggregated", StringComparison.Ordinal)) break; // per-event sections follow the aggregate
            var m = Regex.Match(line, @"^\s*([A-Z_0-9]+) events:\s+(\d+)");
            if (m.Success && m.Groups[1].Value != "TOTAL") d[m.Groups[1].Value] = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        }
        return d;
    }

    private static string StatName(uint type)
    {
        var n = PerfRecordNames.Of((PerfRecordType)type)["PERF_RECORD_".Length..];
        return n.StartsWith("HEADER_", StringComparison.Ordinal) ? n["HEADER_".Length..] : n;
    }

    private static string Format<T>(IEnumerable<KeyValuePair<string, T>> d) =>
        string.Join(", ", d.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));
}
