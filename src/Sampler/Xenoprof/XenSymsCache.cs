using System.Diagnostics;

namespace XenProf.Sampler.Xenoprof;

/// <summary>
/// The real hypervisor image: Debian's Xen 4.17 <c>xen-syms</c> from package <c>xen-hypervisor-4.17-amd64-dbg</c>,
/// fetched with <c>apt-get download</c> and unpacked with <c>dpkg -x</c> into a cache folder (the package is never
/// installed). Folder: <c>$XENPROF_CACHE/xen-4.17</c>, default <c>~/.cache/xenprof/xen-4.17</c>.
/// </summary>
public static class XenSymsCache
{
    /// <summary>Debian package holding xen-syms.</summary>
    public const string Package = "xen-hypervisor-4.17-amd64-dbg";

    /// <summary>Path of xen-syms inside the unpacked package.</summary>
    public const string RelativePath = "root/usr/lib/debug/boot/xen-syms-4.17-amd64";

    /// <summary>The cache folder.</summary>
    public static string Folder
    {
        get
        {
            var root = Environment.GetEnvironmentVariable("XENPROF_CACHE");
            if (string.IsNullOrEmpty(root))
                root = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "xenprof");
            return System.IO.Path.Combine(root, "xen-4.17");
        }
    }

    /// <summary>Where xen-syms is (or will be) in the cache.</summary>
    public static string ImagePath => System.IO.Path.Combine(Folder, RelativePath);

    /// <summary>The cached xen-syms, or null when it has not been fetched.</summary>
    public static string? TryFind() => File.Exists(ImagePath) ? ImagePath : null;

    /// <summary>
    /// Returns the cached xen-syms, fetching it first when absent. Throws <see cref="XenSymsUnavailableException"/>
    /// with the failing step and its output when apt-get or dpkg is missing or fails (e.g. no network).
    /// </summary>
    public static string Ensure(TextWriter? log = null)
    {
        if (TryFind() is { } found) return found;
        Directory.CreateDirectory(Folder);
        log?.WriteLine($"fetching {Package} into {Folder} (apt-get download + dpkg -x; not installed)");
        Run("apt-get", ["download", Package], Folder);
        var deb = Directory.GetFiles(Folder, Package + "_*.deb").OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault()
            ?? throw new XenSymsUnavailableException($"apt-get download {Package} left no .deb in {Folder}");
        Run("dpkg", ["-x", deb, System.IO.Path.Combine(Folder, "root")], Folder);
        return TryFind() ?? throw new XenSymsUnavailableException($"{deb} does not contain {RelativePath["root".Length..]}");
    }

    private static void Run(string program, string[] args, string cwd)
    {
        var psi = new ProcessStartInfo(program) { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Process p;
        try { p = Process.Start(psi) ?? throw new XenSymsUnavailableException($"could not start {program}"); }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new XenSymsUnavailableException($"cannot fetch the Xen 4.17 image: {program} is not available ({e.Message}); fetch {Package} on a Debian machine and unpack it with dpkg -x into {Folder}/root");
        }
        using (p)
        {
            var err = p.StandardError.ReadToEndAsync();
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
                throw new XenSymsUnavailableException($"cannot fetch the Xen 4.17 image: '{program} {string.Join(' ', args)}' exited with {p.ExitCode}: {err.Result.Trim().Split('\n').LastOrDefault()}");
        }
    }
}

/// <summary>The Xen image could not be found or fetched; the message says why and what to do.</summary>
public sealed class XenSymsUnavailableException(string message) : XenProf.Hypervisor.Binary.XenProfUserException(message);
