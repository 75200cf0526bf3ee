using System.Globalization;

namespace XenProf.Reporter.Symbols;

/// <summary>
/// The running kernel's vDSO, copied out of this process's own <c>[vdso]</c> mapping (as perf does in
/// <c>util/vdso.c</c>): every 64-bit process of one boot maps the same image, mapped from offset 0, so a frame's
/// offset into <c>[vdso]</c> is a file offset into these bytes. Only valid for samples recorded on the running
/// kernel; pass the recorded build-id to <see cref="Symbolizer.Resolve"/> to guard against another kernel.
/// </summary>
public static class VdsoImage
{
    /// <summary>Reads the bytes of this process's <c>[vdso]</c> mapping, or returns null if there is none or it cannot be read.</summary>
    /// <param name="mapsPath">A <c>/proc/PID/maps</c> file; default this process's.</param>
    /// <param name="memPath">The matching <c>/proc/PID/mem</c>; default this process's.</param>
    public static byte[]? ReadCurrent(string mapsPath = "/proc/self/maps", string memPath = "/proc/self/mem")
    {
        try
        {
            foreach (var line in File.ReadLines(mapsPath))
            {
                if (!line.EndsWith("[vdso]", StringComparison.Ordinal)) continue;
                var range = line[..line.IndexOf(' ')].Split('-');
                ulong start = ulong.Parse(range[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
                ulong end = ulong.Parse(range[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
                if (end <= start || end - start > 64 << 20) return null;
                var buf = new byte[end - start];
                using var mem = new FileStream(memPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
                mem.Seek((long)start, SeekOrigin.Begin);
                mem.ReadExactly(buf);
                return buf;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ArgumentException) { }
        return null;
    }
}
