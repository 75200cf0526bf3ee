using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace XenProf.Reporter.Symbols.SymbolsInternal;

/// <summary>
/// On-disk cache of recovered function ranges, one text file per image so a second report does not disassemble
/// again. Key: the GNU build-id when the image has one, else SHA-256 of <c>path, mtime ticks, size</c>. File layout
/// (<c>KEY.functions</c>): a first line <c>xenprof-functions 2 IMAGE</c>, then one line per function
/// <c>SOURCE START SIZE NAME</c> (source as the <see cref="RecoveredFrom"/> number, start and size in hex; NAME is
/// <c>-</c> for a generated <c>image+0xSTART</c> name, which is rebuilt from the image being read).
/// A missing, unreadable or damaged file is a miss; write failures are ignored (the cache is an optimization).
/// </summary>
internal static class RecoveryCache
{
    private const string Magic = "xenprof-functions 2";

    public static string Key(string path, string? buildId, DateTime mtime, long length)
    {
        if (buildId != null) return buildId;
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes($"{path}\n{mtime.Ticks}\n{length}"));
        return "p-" + Convert.ToHexStringLower(bytes)[..32];
    }

    public static FunctionRecovery? TryLoad(string directory, string key, string imageName)
    {
        var file = Path.Combine(directory, key + ".functions");
        try
        {
            if (!File.Exists(file)) return null;
            using var r = new StreamReader(file);
            if (r.ReadLine() is not { } head || !head.StartsWith(Magic, StringComparison.Ordinal)) return null;
            var list = new List<RecoveredFunction>();
            while (r.ReadLine() is { } line)
            {
                var p = line.Split(' ', 4);
                if (p.Length != 4) return null;
                ulong start = ulong.Parse(p[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                // "-": a generated name, rebuilt from this image's name (copies of one build may be named differently).
                string name = p[3] == "-" ? FunctionRecovery.NameFor(imageName, start) : p[3];
                list.Add(new RecoveredFunction(name, new Svma(start),
                    ulong.Parse(p[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture), (RecoveredFrom)int.Parse(p[0], CultureInfo.InvariantCulture)));
            }
            return FunctionRecovery.FromFunctions(imageName, list);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            return null;
        }
    }

    public static void TrySave(string directory, string key, FunctionRecovery recovery)
    {
        try
        {
            Directory.CreateDirectory(directory);
            var sb = new StringBuilder();
            sb.Append(Magic).Append(' ').Append(recovery.ImageName).Append('\n');
            foreach (var f in recovery.Functions)
                sb.Append(CultureInfo.InvariantCulture, $"{(int)f.Source} {f.Start.Value:x} {f.Size:x} {(f.Source == RecoveredFrom.Plt ? f.Name : "-")}\n");
            var tmp = Path.Combine(directory, $"{key}.functions.{Environment.ProcessId}.tmp");
            File.WriteAllText(tmp, sb.ToString());
            File.Move(tmp, Path.Combine(directory, key + ".functions"), overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
