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
        using var frames = new StoreFrameSymbolizer(symbolizer, store.ReadMeta());
        return ProfileBuilder.Build(store, SymbolCache.Wrap(store, symbolizer, frames), options);
    }

    /// <summary>
    /// What a report of the session in <paramref name="sessionDir"/> keeps apart: <paramref name="separate"/> (opreport
    /// <c>--separate</c>) when given, else the <c>--separate</c> the session was recorded with (its <c>session.json</c>;
    /// none when it has none, as for an imported trace), less what <paramref name="merge"/> (opreport <c>--merge</c>)
    /// merges. As in oprofile, what the session separated stays separated unless merged. Throws
    /// <see cref="XenProf.Hypervisor.Binary.XenProfUserException"/> for a value outside <see cref="Separations"/>' lists.
    /// </summary>
    public static Separation SeparationFor(string sessionDir, string? separate, string? merge)
    {
        var dir = new SessionDirectory(sessionDir);
        string? recorded = null;
        if (separate == null && File.Exists(dir.ConfigPath))
        {
            try { recorded = dir.ReadConfig().Separate; }
            catch (SessionException) { } // an unreadable configuration sets no default; the store is what is reported
        }
        var s = separate != null ? Separations.Parse(separate) : Separations.Parse(recorded, "session.json separate");
        return Separations.Merge(s, merge);
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

/// <summary>
/// Adapts the <see cref="Symbolizer"/> to stored frames: maps <see cref="ImageKind"/> to <see cref="ObjectKind"/> and passes
/// the recorded build-id for checking. Hypervisor and kernel-image frames (xen-syms, a passive domain's kernel) resolve by
/// absolute address in the file named by the image path or by the session's <c>image_file:NAME</c> meta key; anonymous
/// code an importer named <c>/tmp/perf-PID.map</c> (as perf names JIT code) resolves through the runtime's
/// <c>jit-PID.dump</c> beside it, else that perf map (<see cref="Symbolizer.GetJit"/>).
/// </summary>
public sealed class StoreFrameSymbolizer(Symbolizer symbolizer, IReadOnlyDictionary<string, string>? meta = null)
    : IFrameSymbolizer, IFrameAddressSymbolizer, IDisposable
{
    private readonly Dictionary<string, ImageSymbolTable?> _absolute = new(StringComparer.Ordinal);
    private readonly List<string> _absoluteWarnings = [];

    /// <summary>The symbolizer behind this adapter (annotation reuses its opened images).</summary>
    public Symbolizer Symbolizer => symbolizer;

    /// <inheritdoc/>
    public string? Symbolize(StoredImage image, ulong offset)
    {
        if (image.Kind is ImageKind.Hypervisor or ImageKind.KernelImage) return Absolute(image.Path)?.Find(offset)?.Name;
        if (IsPerfMap(image)) return symbolizer.ResolveJit(image.Path, offset)?.Name;
        return ToObjectKind(image.Kind) is { } kind ? symbolizer.Resolve(image.Path, kind, offset, image.BuildId)?.Name : null;
    }

    /// <inheritdoc/>
    /// <remarks>ELF frames are file offsets; the address reported is the SVMA they load at. Kernel, hypervisor, kernel-image
    /// and JIT (<c>/tmp/perf-PID.map</c>) frames are already addresses.</remarks>
    public FrameSymbol? Locate(StoredImage image, ulong offset)
    {
        switch (image.Kind)
        {
            case ImageKind.Elf:
            case ImageKind.Vdso:
                if (symbolizer.Resolve(image.Path, ToObjectKind(image.Kind)!.Value, offset, image.BuildId) is not { } r) return null;
                return new FrameSymbol(r.Name, r.Start, r.Size, r.Start + r.Offset);
            case ImageKind.Kernel:
            case ImageKind.KernelModule:
                if (symbolizer.Resolve(image.Path, ToObjectKind(image.Kind)!.Value, offset) is not { } k) return null;
                return new FrameSymbol(k.Name, k.Start, k.Size, offset);
            case ImageKind.Hypervisor:
            case ImageKind.KernelImage:
                if (Absolute(image.Path)?.Find(offset) is not { } h) return null;
                return new FrameSymbol(h.Name, h.Start, h.Size, offset);
            case ImageKind.Anonymous when IsPerfMap(image):
                if (symbolizer.ResolveJit(image.Path, offset) is not { } j) return null;
                return new FrameSymbol(j.Name, j.Start, j.Size, offset);
            default:
                return null;
        }
    }

    /// <summary>The file an absolute-address image is read from: the session's <c>image_file:NAME</c> meta key, else the name itself.</summary>
    public string FileOf(string imageName) => meta != null && meta.TryGetValue("image_file:" + imageName, out var f) ? f : imageName;

    /// <summary>Whether <paramref name="image"/> is JIT code named after its perf map (<c>/tmp/perf-PID.map</c>, kind anonymous).</summary>
    public static bool IsPerfMap(StoredImage image) => image.Kind == ImageKind.Anonymous
        && image.Path.StartsWith("/tmp/perf-", StringComparison.Ordinal) && image.Path.EndsWith(".map", StringComparison.Ordinal);

    private static ObjectKind? ToObjectKind(ImageKind kind) => kind switch
    {
        ImageKind.Elf => ObjectKind.Elf,
        ImageKind.Vdso => ObjectKind.Vdso, // the running kernel's vDSO, as perf reads it (tools/perf/util/vdso.c)
        ImageKind.Kernel => ObjectKind.Kernel,
        ImageKind.KernelModule => ObjectKind.KernelModule,
        _ => null,
    };

    private ImageSymbolTable? Absolute(string name)
    {
        if (_absolute.TryGetValue(name, out var t)) return t;
        var file = FileOf(name);
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
