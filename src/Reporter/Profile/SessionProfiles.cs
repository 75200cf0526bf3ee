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
        using var frames = new StoreFrameSymbolizer(symbolizer, store.ReadMeta());
        return ProfileBuilder.Build(store, frames, options);
    }
}

/// <summary>
/// Adapts the <see cref="Symbolizer"/> to stored frames: maps <see cref="ImageKind"/> to <see cref="ObjectKind"/> and passes
/// the recorded build-id for checking. Hypervisor and kernel-image frames (xen-syms, a passive domain's kernel) resolve by
/// absolute address in the file named by the image path or by the session's <c>image_file:NAME</c> meta key.
/// </summary>
public sealed class StoreFrameSymbolizer(Symbolizer symbolizer, IReadOnlyDictionary<string, string>? meta = null) : IFrameSymbolizer, IDisposable
{
    private readonly Dictionary<string, ImageSymbolTable?> _absolute = new(StringComparer.Ordinal);
    private readonly List<string> _absoluteWarnings = [];

    /// <inheritdoc/>
    public string? Symbolize(StoredImage image, ulong offset)
    {
        if (image.Kind is ImageKind.Hypervisor or ImageKind.KernelImage) return Absolute(image.Path)?.Find(offset)?.Name;
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

    private ImageSymbolTable? Absolute(string name)
    {
        if (_absolute.TryGetValue(name, out var t)) return t;
        var file = meta != null && meta.TryGetValue("image_file:" + name, out var f) ? f : name;
        try { t = ImageSymbolTable.Open(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or XenProf.Hypervisor.Binary.MalformedDataException)
        {
            _absoluteWarnings.Add($"{name}: cannot read {file} ({e.Message}); its samples stay unresolved");
        }
        return _absolute[name] = t;
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> Warnings => symbolizer.Warnings.Select(w => w.ToString()).Concat(_absoluteWarnings).Distinct().ToList();

    /// <summary>Unmaps the hypervisor and kernel image files opened for absolute frames.</summary>
    public void Dispose()
    {
        foreach (var t in _absolute.Values) t?.Dispose();
        _absolute.Clear();
    }
}
