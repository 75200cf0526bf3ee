namespace XenProf.Reporter.Symbols;

/// <summary>
/// A copy of an image found in perf's build-id cache (perf <c>tools/perf/util/build-id.c</c>).
/// </summary>
/// <param name="IndexPath">The index entry that was followed: <c>&lt;root&gt;/.build-id/&lt;hex[0:2]&gt;/&lt;hex[2:]&gt;</c>.</param>
/// <param name="ElfPath">The cached object file: <c>&lt;entry&gt;/elf</c> (perf ≥ 4.x layout, the entry is a directory),
/// or the entry itself (older layout, the entry links straight to the file); null when only a debug file is cached.</param>
/// <param name="DebugPath">The cached separate debug file <c>&lt;entry&gt;/debug</c>, or null.</param>
public readonly record struct BuildIdCacheEntry(string IndexPath, string? ElfPath, string? DebugPath);

/// <summary>
/// Looks images up by build-id in perf's build-id cache, the directory <c>perf record</c>, <c>perf archive</c> and
/// <c>perf buildid-cache -a FILE</c> fill so that a report can still find the exact binary that was sampled after it
/// was rebuilt, upgraded or deleted (perf <c>tools/perf/util/build-id.c</c>, <c>build_id_cache__linkname</c>):
/// <list type="bullet">
/// <item>the index <c>&lt;root&gt;/.build-id/&lt;hex[0:2]&gt;/&lt;hex[2:]&gt;</c> is a symlink to
/// <c>../../&lt;absolute image path&gt;/&lt;hex&gt;</c>;</item>
/// <item>newer perf makes that target a directory holding <c>elf</c> (the object) and perhaps <c>debug</c> (its debug
/// file) and <c>probes</c>; older perf made it the copied file itself.</item>
/// </list>
/// Only paths are computed here; the caller opens the files and must check their build-id (a stale or hand-edited
/// cache can point anywhere). The lookup never throws.
/// </summary>
public sealed class BuildIdCache(string root)
{
    /// <summary>The cache directory (the one holding <c>.build-id/</c>).</summary>
    public string Root { get; } = root;

    /// <summary>
    /// The cache to search by default: <c>$PERF_BUILDID_DIR</c> when set and not empty, else <c>$HOME/.debug</c>; null
    /// when neither is known. (perf 6.1 itself takes the directory from <c>perf --buildid-dir DIR</c> or perfconfig
    /// <c>buildid.dir</c>, default <c>~/.debug</c>, and exports its choice as <c>PERF_BUILDID_DIR</c> to the commands it
    /// runs; perfconfig is not read here.)
    /// </summary>
    public static string? DefaultRoot()
    {
        var env = Environment.GetEnvironmentVariable("PERF_BUILDID_DIR");
        if (!string.IsNullOrEmpty(env)) return env;
        var home = Environment.GetEnvironmentVariable("HOME");
        return string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".debug");
    }

    /// <summary>The index path for <paramref name="buildId"/>, whether or not it exists.</summary>
    /// <param name="buildId">Build-id as hex (case ignored), at least 3 characters.</param>
    /// <exception cref="ArgumentException">The id is shorter than 3 characters or not hex.</exception>
    public string IndexPath(string buildId)
    {
        if (buildId.Length < 3 || !buildId.AsSpan().ContainsOnlyHex())
            throw new ArgumentException($"'{buildId}' is not a hex build-id", nameof(buildId));
        var id = buildId.ToLowerInvariant();
        return Path.Combine(Root, ".build-id", id[..2], id[2..]);
    }

    /// <summary>What the cache holds for <paramref name="buildId"/>, or null when it holds nothing (or the id is not hex).</summary>
    /// <param name="buildId">Build-id as hex (case ignored).</param>
    public BuildIdCacheEntry? Find(string buildId)
    {
        if (buildId.Length < 3 || !buildId.AsSpan().ContainsOnlyHex()) return null;
        var index = IndexPath(buildId);
        try
        {
            // Directory/File.Exists follow the symlink, so a dangling link (the copy was removed) counts as absent.
            if (Directory.Exists(index))
            {
                string elf = Path.Combine(index, "elf"), debug = Path.Combine(index, "debug");
                string? e = File.Exists(elf) ? elf : null, d = File.Exists(debug) ? debug : null;
                return e == null && d == null ? null : new BuildIdCacheEntry(index, e, d);
            }
            return File.Exists(index) ? new BuildIdCacheEntry(index, index, null) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return null; }
    }
}

internal static class HexSpan
{
    public static bool ContainsOnlyHex(this ReadOnlySpan<char> s)
    {
        foreach (var c in s) if (!char.IsAsciiHexDigit(c)) return false;
        return true;
    }
}
