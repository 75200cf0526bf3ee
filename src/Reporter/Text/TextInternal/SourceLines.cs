using System.Diagnostics;

namespace XenProf.Reporter.Text.TextInternal;

/// <summary>
/// Source positions for instruction addresses through binutils' <c>addr2line</c> (DWARF line tables, all DWARF
/// versions gcc emits; perf uses the same tool), one process per function with every address on its command line.
/// Output per address is <c>FILE:LINE</c> (possibly with <c> (discriminator N)</c>), or <c>??:0</c>/<c>??:?</c> when unknown.
/// Source text is read from FILE when it exists. A missing tool or a failure gives no lines, never an exception.
/// </summary>
internal sealed class SourceLines
{
    private readonly Dictionary<string, string[]?> _files = new(StringComparer.Ordinal);

    /// <summary>Maps each address to (file, line); addresses without line info are absent.</summary>
    public Dictionary<ulong, (string File, int Line)> Lookup(string debugFile, IReadOnlyList<ulong> addresses)
    {
        var result = new Dictionary<ulong, (string, int)>();
        if (addresses.Count == 0) return result;
        try
        {
            var psi = new ProcessStartInfo("addr2line") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("-e");
            psi.ArgumentList.Add(debugFile);
            foreach (var a in addresses) psi.ArgumentList.Add("0x" + a.ToString("x"));
            psi.Environment["LC_ALL"] = "C";
            using var p = Process.Start(psi);
            if (p == null) return result;
            var err = p.StandardError.ReadToEndAsync();
            var lines = p.StandardOutput.ReadToEnd().Split('\n');
            p.WaitForExit();
            _ = err.Result;
            for (int i = 0; i < addresses.Count && i < lines.Length; i++)
            {
                var l = lines[i];
                int disc = l.IndexOf(" (discriminator", StringComparison.Ordinal);
                if (disc >= 0) l = l[..disc];
                int colon = l.LastIndexOf(':');
                if (colon <= 0 || l.StartsWith("??", StringComparison.Ordinal)) continue;
                if (!int.TryParse(l.AsSpan(colon + 1), out int line) || line <= 0) continue;
                result[addresses[i]] = (l[..colon], line);
            }
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException) { }
        return result;
    }

    /// <summary>The text of line <paramref name="line"/> (1-based) of <paramref name="file"/>, or null when unreadable.</summary>
    public string? Text(string file, int line)
    {
        if (!_files.TryGetValue(file, out var text))
        {
            try { text = File.Exists(file) ? File.ReadAllLines(file) : null; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { text = null; }
            _files[file] = text;
        }
        return text != null && line >= 1 && line <= text.Length ? text[line - 1] : null;
    }
}
