using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using XenProf.Reporter.Profile;
using XenProf.Reporter.Text;
using XenProf.Sampler.Import;
using XenProf.Sampler.Session;
using Xunit;

namespace XenProf.Reporter.Tests.Text;

/// <summary>
/// A real session: tests/Sampler.Tests/Data/nettrace/burner-2s.nettrace (its SOURCES.md says how it was collected),
/// imported once; two events (THREAD_SAMPLE_MANAGED, THREAD_SAMPLE_EXTERNAL).
/// </summary>
public sealed class BurnerSession : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("xenprof-csvxml-").FullName;

    public BurnerSession()
    {
        // Imported from a copy, so nothing the import might leave beside its input lands in the repository.
        var trace = Path.Combine(_root, "burner-2s.nettrace");
        File.Copy(Path.Combine(TextReport.RepoRoot(), "tests", "Sampler.Tests", "Data", "nettrace", "burner-2s.nettrace"), trace);
        Dir = Path.Combine(_root, "s");
        TraceImport.Import(trace, new SessionDirectory(Dir));
        Profile = SessionProfiles.Load(Dir, new ProfileOptions { WithDetails = true });
    }

    /// <summary>The session directory.</summary>
    public string Dir { get; }

    /// <summary>The session's profile, built with details.</summary>
    public Profile.Profile Profile { get; }

    public void Dispose() { SqliteConnection.ClearAllPools(); Directory.Delete(_root, true); }
}

/// <summary>The text report (<see cref="OpreportWriter"/>) read back as rows: what the CSV and XML reports are compared with.</summary>
internal static class TextReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>One line of the text report: per event (profile order) samples, percent and error, then image and symbol.</summary>
    internal sealed record Row(long[] Samples, double[] Percent, double[] Error, string Image, string? Symbol);

    internal static string RepoRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d != null && !File.Exists(Path.Combine(d.FullName, "XenProf.sln"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    internal static string Render(Action<TextWriter> write)
    {
        var w = new StringWriter { NewLine = "\n" };
        write(w);
        return w.ToString();
    }

    /// <summary>The rows of the text report of <paramref name="p"/> (written with error bars and without the header lines:
    /// the column header line(s), then one line per row).</summary>
    internal static List<Row> Rows(Profile.Profile p, OpreportOptions o)
    {
        var lines = Render(w => OpreportWriter.Write(p, w, o with { NoHeader = true, ErrorBars = true })).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        int n = p.Events.Count;
        var counts = string.Concat(Enumerable.Repeat(@"(\d+)\s+(\S+)\s+(\S+)\s+", n));
        var row = new Regex(o.Symbols ? "^" + counts + @"(\S+)\s+(.+)$" : @"^\s*" + counts + "(.+)$");
        var rows = new List<Row>();
        foreach (var line in lines.Skip(o.Symbols ? 1 : 3))
        {
            var m = row.Match(line);
            Assert.True(m.Success, line);
            string G(int i) => m.Groups[i].Value;
            rows.Add(new Row(
                Enumerable.Range(0, n).Select(e => long.Parse(G(1 + 3 * e), Inv)).ToArray(),
                Enumerable.Range(0, n).Select(e => double.Parse(G(2 + 3 * e), Inv)).ToArray(),
                Enumerable.Range(0, n).Select(e => double.Parse(G(3 + 3 * e), Inv)).ToArray(),
                G(1 + 3 * n), o.Symbols ? G(2 + 3 * n) : null));
        }
        return rows;
    }
}
