using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using XenProf.Reporter.Profile;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>A fact that records with Linux perf: needs root and a perf binary that runs.</summary>
public sealed class PerfRecordFactAttribute : TheoryAttribute
{
    public PerfRecordFactAttribute()
    {
        if (!Environment.IsPrivilegedProcess) Skip = "needs root to run perf record (CI runs as root)";
        else if (!File.Exists(Cli.Workload)) Skip = $"the built-in workload {Cli.Workload} was not built (gcc missing)";
        else if (!PerfImportComparisonTests.PerfWorks) Skip = "perf is not installed or does not run here (apt-get install linux-perf)";
    }
}

/// <summary>
/// Records the built-in workload with perf on this machine in several ways and checks that
/// <c>xenoprof opreport -l FILE</c> gives the per-image and per-symbol sample counts that
/// <c>perf report --stdio --no-children --sort dso,sym -g none</c> gives on the same file (counts summed over the
/// file's events). Per-symbol counts are compared for the workload and the kernel, whose symbols both tools take from
/// the same ELF symbol table and kallsyms; per-image counts for every image.
/// </summary>
[Collection(PerfCollection.Name)]
public sealed class PerfImportComparisonTests(ITestOutputHelper output)
{
    internal static bool PerfWorks { get; } = Probe();

    private static bool Probe()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("perf", "version") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            p.WaitForExit(10_000);
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }

    // -B: perf 6.1 here crashes collecting build-ids at the end of a record ("assertion failed at util/build-id.c").
    [PerfRecordFact]
    [InlineData("per-process", "-B -e cpu-clock", false)]
    [InlineData("callgraph", "-B -g -e cpu-clock", false)]
    [InlineData("dwarf", "-B --call-graph dwarf,4096 -e cpu-clock", false)]
    [InlineData("system-wide", "-B -a -g -e cpu-clock", false)]
    [InlineData("multi-event", "-B -e cpu-clock,task-clock", false)]
    [InlineData("pipe", "-B -e cpu-clock", true)]
    [InlineData("zstd", "-B -z -e cpu-clock", false)]
    public void OpreportEqualsPerfReport(string name, string perfArgs, bool pipe)
    {
        var dir = Cli.NewSessionDir();
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, name + ".data");
        try
        {
            var rec = pipe
                ? Sh($"perf record {perfArgs} -o - -- {Cli.Workload} > {file}")
                : Sh($"perf record {perfArgs} -o {file} -- {Cli.Workload}");
            Assert.True(rec.Code == 0, $"perf record failed: {rec.Err}");
            var report = Sh($"perf report -i {file} --stdio --no-children --sort dso,sym -g none -q -n");
            Assert.True(report.Code == 0, $"perf report failed: {report.Err}");
            var (perfDso, perfSym) = ParsePerf(report.Out);

            var r = Cli.Run("opreport", "-l", file);
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Contains("hot_sixty", r.Stdout);
            var profile = SessionProfiles.Load(file + ".xenoprof", new ProfileOptions());
            var ourDso = new SortedDictionary<string, long>(StringComparer.Ordinal);
            var ourSym = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (var row in profile.Symbols)
            {
                var dso = ShortName(row.ImageRow.Image.Path);
                ourDso[dso] = ourDso.GetValueOrDefault(dso) + row.Counts.Total;
                var key = dso + " " + Canonical(dso, row.Symbol);
                if (Compared(dso)) ourSym[key] = ourSym.GetValueOrDefault(key) + row.Counts.Total;
            }
            output.WriteLine($"{name}: perf  {Format(perfDso)}");
            output.WriteLine($"{name}: ours  {Format(ourDso)}");
            Assert.Equal(Format(perfDso), Format(ourDso));
            Assert.Equal(Format(perfSym), Format(ourSym));

            // The cached session is reused while the file is unchanged.
            var store = Path.Combine(file + ".xenoprof", "samples.db");
            var stamp = File.GetLastWriteTimeUtc(store);
            Assert.Equal(0, Cli.Run("opreport", file).ExitCode);
            Assert.Equal(stamp, File.GetLastWriteTimeUtc(store));

            // A flat report imported each sample's leaf frame only; a call graph imports the file again with its
            // callchains, and the flat report read from that import is the same.
            bool callers = perfArgs.Contains("-g") || perfArgs.Contains("--call-graph");
            Assert.Equal(callers ? "leaf" : null, profile.Meta.GetValueOrDefault("callchains"));
            if (!callers) return;
            var leafOnly = SessionProfiles.Load(file + ".xenoprof", new ProfileOptions { WithStacks = true });
            Assert.Contains(leafOnly.Warnings, w => w.Contains("leaf frame only"));
            Assert.All(leafOnly.StackTotals, t => Assert.Single(leafOnly.StackOf(t.Stack)));
            var graph = Cli.Run("opreport", "-c", file);
            Assert.True(graph.ExitCode == 0, graph.Stderr);
            Assert.DoesNotContain("leaf frame only", graph.Stderr);
            var full = SessionProfiles.Load(file + ".xenoprof", new ProfileOptions { WithStacks = true });
            Assert.Null(full.Meta.GetValueOrDefault("callchains"));
            Assert.Contains(full.StackTotals, t => full.StackOf(t.Stack).Count > 1);
            Assert.Equal(r.Stdout, Cli.Run("opreport", "-l", file).Stdout);
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
    }

    // Kernel aliases (several names at one address, e.g. memcpy and __pi_memcpy): perf keeps the last one kallsyms
    // lists, XenProf's kernel symbolizer prefers by binding and length. Both name the same code, so compare one
    // canonical name per address.
    private static readonly Lazy<Dictionary<string, string>> KernelAliases = new(() =>
    {
        var byAddr = new Dictionary<string, List<string>>();
        foreach (var line in File.ReadLines("/proc/kallsyms"))
        {
            var f = line.Split(' ', '\t');
            if (f.Length < 3 || f[1] is not ("T" or "t" or "W" or "w")) continue;
            if (!byAddr.TryGetValue(f[0], out var l)) byAddr[f[0]] = l = new List<string>();
            l.Add(f[2]);
        }
        var canon = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var l in byAddr.Values)
        {
            var c = l.Min(StringComparer.Ordinal)!;
            foreach (var n in l) canon[n] = c;
        }
        return canon;
    });

    internal static string Canonical(string dso, string symbol) =>
        dso == "[kernel.kallsyms]" && KernelAliases.Value.TryGetValue(symbol, out var c) ? c : symbol;

    private static bool Compared(string dso) => dso is "hotloop" or "[kernel.kallsyms]";

    /// <summary>perf's short dso name: the file's base name, the bracketed pseudo name, or "[JIT] tid PID" for a JIT map.</summary>
    private static string ShortName(string path)
    {
        var jit = Regex.Match(path, @"^/tmp/perf-(\d+)\.map$");
        if (jit.Success) return "[JIT] tid " + jit.Groups[1].Value;
        return path.StartsWith('[') ? path : Path.GetFileName(path);
    }

    private static (SortedDictionary<string, long> Dso, SortedDictionary<string, long> Sym) ParsePerf(string text)
    {
        var dso = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var sym = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (Match m in Regex.Matches(text, @"^\s+[\d.]+%\s+(\d+)\s+(.+?)\s+\[(.)\] (.+?)\s*$", RegexOptions.Multiline))
        {
            long n = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            string d = m.Groups[2].Value, s = m.Groups[4].Value;
            if (s.StartsWith("0x", StringComparison.Ordinal)) s = Profile.NoSymbols; // perf prints the address of an unnamed sample
            dso[d] = dso.GetValueOrDefault(d) + n;
            var key = d + " " + Canonical(d, s);
            if (Compared(d)) sym[key] = sym.GetValueOrDefault(key) + n;
        }
        return (dso, sym);
    }

    private static string Format(SortedDictionary<string, long> d) => string.Join(", ", d.Select(kv => $"{kv.Key}={kv.Value}"));

    internal static (int Code, string Out, string Err) Sh(string command)
    {
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        // A private build-id cache per call, so perf runs never share ~/.debug.
        psi.Environment["PERF_BUILDID_DIR"] = Directory.CreateTempSubdirectory("xenprof-buildid-").FullName;
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(command);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, o, err.Result);
    }
}
