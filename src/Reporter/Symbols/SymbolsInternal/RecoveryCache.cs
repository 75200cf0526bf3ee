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
            // One read and a parse over the bytes: the caches of a system-wide session's images hold 10⁴–10⁵ lines.
            ReadOnlySpan<byte> text = File.ReadAllBytes(file);
            int eol = text.IndexOf((byte)'\n');
            if (eol < 0 || !text[..eol].StartsWith(Encoding.ASCII.GetBytes(Magic))) return null;
            text = text[(eol + 1)..];
            var bySource = new Dictionary<RecoveredFrom, List<(ulong, ulong, string?)>>();
            while (!text.IsEmpty)
            {
                eol = text.IndexOf((byte)'\n');
                var line = eol < 0 ? text : text[..eol];
                text = eol < 0 ? default : text[(eol + 1)..];
                if (line.IsEmpty) continue;
                int a = line.IndexOf((byte)' ');
                if (a < 0) return null;
                int b = line[(a + 1)..].IndexOf((byte)' ') + a + 1;
                if (b <= a) return null;
                int c = line[(b + 1)..].IndexOf((byte)' ') + b + 1;
                if (c <= b) return null;
                var source = (RecoveredFrom)int.Parse(line[..a], NumberStyles.Integer, CultureInfo.InvariantCulture);
                ulong start = ulong.Parse(line[(a + 1)..b], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                ulong size = ulong.Parse(line[(b + 1)..c], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                var nameBytes = line[(c + 1)..];
                // "-": a generated name, rebuilt from this image's name when asked (copies of one build may be named differently).
                string? name = nameBytes.SequenceEqual("-"u8) ? null : Encoding.UTF8.GetString(nameBytes);
                if (!bySource.TryGetValue(source, out var list)) bySource[source] = list = [];
                list.Add((start, size, name));
            }
            return FunctionRecovery.FromFunctions(imageName, bySource);
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
