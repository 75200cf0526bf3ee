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
        using var symbolizer = new Symbolizer(SymbolizerOptionsFor(sessionDir));
        return Load(sessionDir, options, symbolizer);
    }

    /// <summary>As <see cref="Load(string, ProfileOptions)"/>, with a caller-owned symbolizer (kept open, e.g. to
    /// disassemble the images afterwards, or configured differently: <see cref="SymbolizerOptions.RecoverFunctions"/>).</summary>
    public static Profile Load(string sessionDir, ProfileOptions options, Symbolizer symbolizer)
    {
        var dir = new SessionDirectory(sessionDir);
        using var store = SessionStore.OpenRead(dir.StorePath);
        return ProfileBuilder.Build(store, new StoreFrameSymbolizer(symbolizer), options);
    }

    /// <summary>Symbolizer options for a session: its own kallsyms/modules snapshot when present, else /proc.</summary>
    public static SymbolizerOptions SymbolizerOptionsFor(string sessionDir)
    {
        var dir = new SessionDirectory(sessionDir);
        return new SymbolizerOptions
        {
            KallsymsPath = File.Exists(dir.KallsymsPath) ? dir.KallsymsPath : "/proc/kallsyms",
            ModulesPath = File.Exists(dir.ModulesPath) ? dir.ModulesPath : "/proc/modules",
        };
    }
}

/// <summary>Adapts the <see cref="Symbolizer"/> to stored frames: maps <see cref="ImageKind"/> to <see cref="ObjectKind"/> and passes the recorded build-id for checking.</summary>
public sealed class StoreFrameSymbolizer(Symbolizer symbolizer) : IFrameSymbolizer, IFrameAddressSymbolizer
{
    /// <summary>The symbolizer behind this adapter (annotation reuses its opened images).</summary>
    public Symbolizer Symbolizer => symbolizer;

    /// <inheritdoc/>
    /// <remarks>ELF frames are file offsets; the address reported is the SVMA they load at. Kernel frames are already addresses.</remarks>
    public FrameSymbol? Locate(StoredImage image, ulong offset)
    {
        switch (image.Kind)
        {
            case ImageKind.Elf:
                if (symbolizer.Resolve(image.Path, ObjectKind.Elf, offset, image.BuildId) is not { } r) return null;
                return new FrameSymbol(r.Name, r.Start, r.Size, r.Start + r.Offset);
            case ImageKind.Kernel:
            case ImageKind.KernelModule:
                if (symbolizer.Resolve(image.Path, image.Kind == ImageKind.Kernel ? ObjectKind.Kernel : ObjectKind.KernelModule, offset) is not { } k) return null;
                return new FrameSymbol(k.Name, k.Start, k.Size, offset);
            case ImageKind.Hypervisor:
                // xen-syms is an ELF linked at its run address: the frame offset is already an SVMA.
                if (!Path.IsPathRooted(image.Path) || symbolizer.FindFunction(image.Path, new Svma(offset)) is not { } h) return null;
                return new FrameSymbol(h.Name, h.Start, h.Size, offset);
            default:
                return null;
        }
    }

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
