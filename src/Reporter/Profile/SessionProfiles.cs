using XenProf.Reporter.Symbols;
using XenProf.Sampler.Session;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Profile;

/// <summary>Opens a session directory's store and builds its profile with the session's own kernel symbol snapshot.</summary>
public static class SessionProfiles
{
    /// <summary>
    /// Builds the profile of the session in <paramref name="sessionDir"/>. Kernel frames resolve against the
    /// <c>kallsyms</c>/<c>modules</c> copies taken when sampling started (falling back to /proc).
    /// Throws <see cref="StoreException"/> when the directory holds no session store.
    /// </summary>
    public static Profile Load(string sessionDir, ProfileOptions options)
    {
        var dir = new SessionDirectory(sessionDir);
        using var store = SessionStore.OpenRead(dir.StorePath);
        using var symbolizer = new Symbolizer(new SymbolizerOptions
        {
            KallsymsPath = File.Exists(dir.KallsymsPath) ? dir.KallsymsPath : "/proc/kallsyms",
            ModulesPath = File.Exists(dir.ModulesPath) ? dir.ModulesPath : "/proc/modules",
        });
        return ProfileBuilder.Build(store, new StoreFrameSymbolizer(symbolizer), options);
    }
}

/// <summary>Adapts the <see cref="Symbolizer"/> to stored frames: maps <see cref="ImageKind"/> to <see cref="ObjectKind"/> and passes the recorded build-id for checking.</summary>
public sealed class StoreFrameSymbolizer(Symbolizer symbolizer) : IFrameSymbolizer
{
    private readonly Dictionary<string, PerfMapSymbols?> _perfMaps = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public string? Symbolize(StoredImage image, ulong offset)
    {
        // Anonymous code that an importer named /tmp/perf-PID.map (as perf does): JIT symbols by runtime address.
        if (image.Kind == ImageKind.Anonymous && image.Path.StartsWith("/tmp/perf-", StringComparison.Ordinal) && image.Path.EndsWith(".map", StringComparison.Ordinal))
        {
            if (!_perfMaps.TryGetValue(image.Path, out var map)) _perfMaps[image.Path] = map = PerfMapSymbols.Load(image.Path);
            return map?.Find(offset);
        }
        ObjectKind? kind = image.Kind switch
        {
            ImageKind.Elf => ObjectKind.Elf,
            ImageKind.Kernel => ObjectKind.Kernel,
            ImageKind.KernelModule => ObjectKind.KernelModule,
            _ => null,
        };
        if (kind == null) return null;
        return symbolizer.Resolve(image.Path, kind.Value, offset, image.BuildId)?.Name;
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> Warnings => symbolizer.Warnings.Select(w => w.ToString()).Distinct().ToList();
}
