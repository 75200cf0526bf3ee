using System.Diagnostics;

namespace XenProf.Reporter.Tests.Symbols;

/// <summary>Runs host tools (gcc, nm, readelf, strip, objcopy) for tests that compare against binutils.</summary>
internal static class Tools
{
    public static bool Has(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => d.Length > 0 && File.Exists(Path.Combine(d, tool)));

    public static string Run(string file, params string[] args) => Run(file, true, args);

    /// <summary>Runs a tool and returns its stdout; <paramref name="checkExit"/> false accepts a non-zero exit (readelf warns that way).</summary>
    public static string Run(string file, bool checkExit, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["LC_ALL"] = "C";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        if (checkExit && p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }

    /// <summary>Parses <c>nm</c> output lines <c>ADDR TYPE NAME</c>; version suffixes (<c>@@GLIBC_2.2.5</c>) are dropped.</summary>
    public static List<(ulong Addr, char Type, string Name)> Nm(params string[] args)
    {
        var list = new List<(ulong, char, string)>();
        foreach (var line in Run("nm", args).Split('\n'))
        {
            var p = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (p.Length != 3 || p[1].Length != 1) continue;
            var name = p[2];
            int at = name.IndexOf('@');
            if (at > 0) name = name[..at];
            list.Add((Convert.ToUInt64(p[0], 16), p[1][0], name));
        }
        return list;
    }

    /// <summary>The build-id printed by <c>readelf -n</c>, or null.</summary>
    public static string? ReadelfBuildId(string path)
    {
        foreach (var line in Run("readelf", "-n", path).Split('\n'))
        {
            var t = line.Trim();
            if (t.StartsWith("Build ID:", StringComparison.Ordinal)) return t["Build ID:".Length..].Trim();
        }
        return null;
    }

    /// <summary>PT_LOAD segments as printed by <c>readelf -lW</c>: (offset, vaddr, filesz).</summary>
    public static List<(ulong Off, ulong Vaddr, ulong FileSz)> ReadelfLoads(string path)
    {
        var list = new List<(ulong, ulong, ulong)>();
        foreach (var line in Run("readelf", "-lW", path).Split('\n'))
        {
            var p = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (p.Length >= 6 && p[0] == "LOAD")
                list.Add((Convert.ToUInt64(p[1], 16), Convert.ToUInt64(p[2], 16), Convert.ToUInt64(p[4], 16)));
        }
        return list;
    }
}
