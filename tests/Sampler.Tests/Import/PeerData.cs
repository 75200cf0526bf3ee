using System.IO.Compression;

namespace XenProf.Sampler.Tests.Import;

/// <summary>
/// The peer-data corpus (../shared/peer-data beside the repository: other projects' perf.data test vectors and
/// oracles made by perf on them; provenance in its SOURCES.md). Tests that need it skip with a printed reason
/// when it is absent.
/// </summary>
internal static class PeerData
{
    public static string? Root { get; } = Find();

    private static string? Find()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "XenProf.sln")))
            {
                // ../shared beside the repository (CI); a git worktree may sit one level deeper.
                for (var up = d.Parent; up != null; up = up.Parent)
                {
                    var p = Path.Combine(up.FullName, "shared", "peer-data");
                    if (Directory.Exists(p)) return p;
                }
                return null;
            }
        return null;
    }

    public const string Absent = "../shared/peer-data is not beside the repository; conformance data absent";

    /// <summary>Rows of MANIFEST-perf-data.tsv: relative file, flags.</summary>
    public static IEnumerable<(string File, string Flags)> Manifest()
    {
        if (Root == null) yield break;
        foreach (var line in File.ReadLines(Path.Combine(Root, "MANIFEST-perf-data.tsv")).Skip(1))
        {
            var f = line.Split('\t');
            if (f.Length > 14) yield return (f[0], f[14]);
        }
    }

    /// <summary>The file's bytes on disk, gunzipped into a temp file when stored as .gz.</summary>
    public static string Materialize(string relative)
    {
        var path = Path.Combine(Root!, relative);
        if (!relative.EndsWith(".gz", StringComparison.Ordinal)) return path;
        var tmp = Path.Combine(Path.GetTempPath(), "xenprof-peer-" + Path.GetFileNameWithoutExtension(relative) + "-" + Environment.ProcessId);
        if (!File.Exists(tmp))
        {
            using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
            using var o = File.Create(tmp + ".part");
            gz.CopyTo(o);
            o.Close();
            File.Move(tmp + ".part", tmp, true);
        }
        return tmp;
    }

    /// <summary>An oracle file's text (plain or .gz), or null.</summary>
    public static string? Oracle(string relative, string suffix)
    {
        var dir = Path.Combine(Root!, Path.GetDirectoryName(relative)!, "oracle");
        var name = Path.GetFileName(relative);
        if (name.EndsWith(".gz", StringComparison.Ordinal)) name = name[..^3];
        var p = Path.Combine(dir, name + suffix);
        if (File.Exists(p)) return File.ReadAllText(p);
        if (File.Exists(p + ".gz"))
        {
            using var gz = new GZipStream(File.OpenRead(p + ".gz"), CompressionMode.Decompress);
            return new StreamReader(gz).ReadToEnd();
        }
        return null;
    }
}
