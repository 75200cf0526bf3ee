namespace XenProf.Reporter.Symbols;

/// <summary>
/// Where to look for the separate debug file of a stripped image, in perf's and gdb's order
/// (gdb manual "Separate Debug Files"; perf <c>util/dso.c</c> <c>dso__read_binary_type_filename</c>):
/// <list type="number">
/// <item>by build-id: <c>&lt;root&gt;/.build-id/&lt;hex[0:2]&gt;/&lt;hex[2:]&gt;.debug</c> for each debug root;</item>
/// <item>by <c>.gnu_debuglink</c> name: the image's directory, its <c>.debug/</c> subdirectory, then
/// <c>&lt;root&gt;/&lt;image directory&gt;/</c> for each debug root.</item>
/// </list>
/// Candidates are only paths; the caller opens them and checks the build-id.
/// </summary>
public static class DebugFileLocator
{
    /// <summary>The system debug root.</summary>
    public const string SystemDebugRoot = "/usr/lib/debug";

    /// <summary>Lists candidate debug-file paths for an image, most specific first, without touching the disk.</summary>
    /// <param name="imagePath">Absolute path of the image.</param>
    /// <param name="buildId">The image's build-id (lowercase hex) or null.</param>
    /// <param name="debugLink">The image's <c>.gnu_debuglink</c> file name or null.</param>
    /// <param name="debugRoots">Debug roots to search, e.g. <c>/usr/lib/debug</c> and user-supplied directories.</param>
    /// <returns>Distinct paths, never including <paramref name="imagePath"/> itself.</returns>
    public static IReadOnlyList<string> Candidates(string imagePath, string? buildId, string? debugLink, IEnumerable<string> debugRoots)
    {
        var roots = debugRoots.ToList();
        var list = new List<string>();
        if (buildId is { Length: > 2 })
            foreach (var r in roots)
                list.Add(Path.Combine(r, ".build-id", buildId[..2], buildId[2..] + ".debug"));
        if (!string.IsNullOrEmpty(debugLink) && debugLink.IndexOf('/') < 0)
        {
            string dir = Path.GetDirectoryName(Path.GetFullPath(imagePath)) ?? "/";
            list.Add(Path.Combine(dir, debugLink));
            list.Add(Path.Combine(dir, ".debug", debugLink));
            foreach (var r in roots)
                list.Add(Path.Combine(r, dir.TrimStart('/'), debugLink));
        }
        string self = Path.GetFullPath(imagePath);
        return list.Where(p => Path.GetFullPath(p) != self).Distinct(StringComparer.Ordinal).ToList();
    }
}
