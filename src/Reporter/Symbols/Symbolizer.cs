using System.Diagnostics;
using XenProf.Hypervisor.Binary;

namespace XenProf.Reporter.Symbols;

/// <summary>Options for <see cref="Symbolizer"/>; the defaults symbolize the running machine.</summary>
public sealed record SymbolizerOptions
{
    /// <summary>kallsyms file for kernel and module frames. Default <c>/proc/kallsyms</c>.</summary>
    public string KallsymsPath { get; init; } = "/proc/kallsyms";

    /// <summary><c>/proc/modules</c>-format file for module ranges, or null to use kallsyms module tags only.
    /// Default <c>/proc/modules</c>.</summary>
    public string? ModulesPath { get; init; } = "/proc/modules";

    /// <summary>Debug roots searched before <see cref="DebugFileLocator.SystemDebugRoot"/>, each laid out like
    /// <c>/usr/lib/debug</c> (<c>.build-id/xx/yyyy.debug</c> and mirrored image directories). Default none.</summary>
    public IReadOnlyList<string> DebugDirectories { get; init; } = [];

    /// <summary>Whether to look for separate debug files for images without <c>.symtab</c>. Default true.</summary>
    public bool UseDebugFiles { get; init; } = true;

    /// <summary>Whether <see cref="ObjectKind.Vdso"/> frames are resolved against the running kernel's vDSO
    /// (right only when reporting on the machine and boot that recorded). Default true.</summary>
    public bool UseRunningVdso { get; init; } = true;

    /// <summary>When set, supplies the kernel symbols instead of reading <see cref="KallsymsPath"/> and
    /// <see cref="ModulesPath"/> on first use (e.g. parsed on another thread meanwhile); its exceptions are those of
    /// <see cref="KernelSymbols.Load"/>.</summary>
    public Func<KernelSymbols>? KernelLoader { get; init; }

    /// <summary>perf's build-id cache directory (<see cref="BuildIdCache"/>), searched first for an image with a build-id
    /// (the one recorded with the samples, else the file's own), or null to ignore the cache.
    /// Default <see cref="BuildIdCache.DefaultRoot"/>: <c>$PERF_BUILDID_DIR</c>, else <c>~/.debug</c>.</summary>
    public string? BuildIdCacheDirectory { get; init; } = BuildIdCache.DefaultRoot();

    /// <summary>Whether to search <see cref="DebugFileLocator.SystemDebugRoot"/> as well. Default true.</summary>
    public bool UseSystemDebugRoot { get; init; } = true;

    /// <summary>Whether addresses no symbol covers resolve to functions recovered from PLT entries, <c>.eh_frame</c>
    /// and call targets (<see cref="FunctionRecovery"/>). Default true; false gives perf's view (unresolved).</summary>
    public bool RecoverFunctions { get; init; } = true;

    /// <summary>How ELF symbol names are shown (<see cref="Demangler"/>); default <see cref="DefaultDemangle"/>, itself <see cref="DemangleStyle.Normal"/>,
    /// as <c>perf report</c> prints them. Also decides which of several aliases at one address is kept (perf compares
    /// the demangled names). Kernel, module and JIT names are never demangled (perf's <c>demangle_kernel</c> is off
    /// by default, and it reads perf maps as they are).</summary>
    public DemangleStyle Demangle { get; init; } = DefaultDemangle;

    /// <summary>The <see cref="Demangle"/> of options made without one: <see cref="DemangleStyle.Normal"/> unless changed.
    /// Process-wide; the CLI sets it once from <c>--demangle=</c> so that every symbolizer a verb creates agrees.</summary>
    public static DemangleStyle DefaultDemangle { get; set; } = DemangleStyle.Normal;

    /// <summary>Directory caching recovered function ranges per build-id (or path, mtime and size), or null for no
    /// disk cache. Default <c>$XDG_CACHE_HOME/xenprof/functions</c> (<c>~/.cache/xenprof/functions</c>).</summary>
    public string? CacheDirectory { get; init; } = DefaultCacheDirectory();

    private static string? DefaultCacheDirectory()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var home = Environment.GetEnvironmentVariable("HOME");
        var root = !string.IsNullOrEmpty(xdg) ? xdg : !string.IsNullOrEmpty(home) ? Path.Combine(home, ".cache") : null;
        return root == null ? null : Path.Combine(root, "xenprof", "functions");
    }
}

/// <summary>A frame resolved to a function symbol.</summary>
/// <param name="Name">Symbol name as shown: for ELF images, demangled per <see cref="SymbolizerOptions.Demangle"/>
/// (a <c>@plt</c> entry as <c>demangled@plt</c>); kernel and JIT names as they are.</param>
/// <param name="Start">Symbol start in the image's address space: an SVMA for ELF images, an absolute kernel
/// address for the kernel and modules.</param>
/// <param name="Size">Symbol extent in bytes.</param>
/// <param name="Offset">Bytes from <paramref name="Start"/> to the resolved address.</param>
public readonly record struct ResolvedSymbol(string Name, ulong Start, ulong Size, ulong Offset)
{
    private readonly string? _mangled;

    /// <summary>The name as stored in the symbol table, before demangling (pprof's <c>system_name</c>); equals
    /// <see cref="Name"/> when nothing was demangled.</summary>
    public string MangledName { get => _mangled ?? Name; init => _mangled = value == Name ? null : value; }

    /// <summary><c>name+0xoffset</c>.</summary>
    public override string ToString() => $"{Name}+0x{Offset:x}";
}

/// <summary>A problem met while symbolizing one image, reported once.</summary>
/// <param name="Image">Image path or name (e.g. <c>[kernel.kallsyms]</c>).</param>
/// <param name="Message">What went wrong and its consequence.</param>
public readonly record struct SymbolizerWarning(string Image, string Message)
{
    /// <summary><c>image: message</c>.</summary>
    public override string ToString() => $"{Image}: {Message}";
}

/// <summary>
/// Resolves frames <c>(image, kind, offset)</c> to function symbols without knowing how samples were taken.
/// ELF images are opened once per path and kept mapped (revalidated by mtime and size at most once a second).
/// Where an image's symbols come from, first found wins:
/// <list type="number">
/// <item>perf's build-id cache (<see cref="SymbolizerOptions.BuildIdCacheDirectory"/>): the cached copy of the build-id
/// recorded with the samples (else of the file on disk), used instead of the mapped path;</item>
/// <item>for an object without <c>.symtab</c>, a separate debug file: the cache's <c>debug</c> file, then
/// <c>.build-id/xx/yyyy.debug</c> under the debug roots, then the <c>.gnu_debuglink</c> name
/// (<see cref="DebugFileLocator"/>), each only when its build-id matches;</item>
/// <item>the object's own <c>.symtab</c>/<c>.dynsym</c>.</item>
/// </list>
/// (perf 6.1's <c>binary_type_symtab</c> in <c>util/symbol.c</c> tries <c>DEBUGLINK</c> before the build-id cache; here
/// the lookups keyed by build-id come first because their identity is checked.) A recorded build-id that matches
/// neither a cached copy nor the file leaves the frame unresolved with a warning, never silently mis-named.
/// Kernel and module frames use <see cref="KernelSymbols"/>, loaded on first use. JIT code named
/// <c>/tmp/perf-PID.map</c> resolves through <see cref="JitSymbols"/> (<c>jit-PID.dump</c>, backed by the perf map).
/// It never throws for missing, unreadable or malformed inputs: such images resolve nothing and a
/// <see cref="SymbolizerWarning"/> is recorded once in <see cref="Warnings"/>. Not thread-safe.
/// </summary>
public sealed class Symbolizer : IDisposable
{
    private readonly SymbolizerOptions _options;
    private readonly Dictionary<string, Entry> _images = new(StringComparer.Ordinal);
    private readonly List<SymbolizerWarning> _warnings = [];
    private readonly HashSet<SymbolizerWarning> _warned = [];
    private KernelSymbols? _kernel;
    private bool _kernelTried;
    private readonly BuildIdCache? _cache;
    // Cache copies opened so far -> the image path they stand for (debuglink names are relative to the original).
    private readonly Dictionary<string, string> _originalOf = new(StringComparer.Ordinal);
    // Build-id -> its verified copy in the cache, or null when the cache has none (or a wrong one).
    private readonly Dictionary<string, string?> _copyOf = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JitSymbols?> _jit = new(StringComparer.Ordinal);

    private sealed class Entry
    {
        public ElfObjectFile? File;
        public DateTime MTime;
        public long Length;
        public long CheckedAt;
        public FunctionRecovery? Recovery;
    }

    /// <summary>Creates a symbolizer.</summary>
    /// <param name="options">Options, or null for the defaults.</param>
    public Symbolizer(SymbolizerOptions? options = null)
    {
        _options = options ?? new SymbolizerOptions();
        if (!string.IsNullOrEmpty(_options.BuildIdCacheDirectory)) _cache = new BuildIdCache(_options.BuildIdCacheDirectory);
    }

    /// <summary>The options this symbolizer was made with.</summary>
    public SymbolizerOptions Options => _options;

    /// <summary>Problems met so far, each once, in the order met.</summary>
    public IReadOnlyList<SymbolizerWarning> Warnings => _warnings;

    /// <summary>Kernel symbols (loaded on first call), or null when kallsyms could not be read.</summary>
    public KernelSymbols? Kernel
    {
        get
        {
            if (_kernelTried) return _kernel;
            _kernelTried = true;
            try
            {
                _kernel = _options.KernelLoader?.Invoke() ?? KernelSymbols.Load(_options.KallsymsPath, _options.ModulesPath);
                if (_kernel.Warning != null) Warn(ObjectKinds.KernelImageName, _kernel.Warning);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Warn(ObjectKinds.KernelImageName, $"cannot read {_options.KallsymsPath}: {e.Message}; kernel samples stay unresolved");
            }
            return _kernel;
        }
    }

    /// <summary>
    /// Resolves one frame.
    /// </summary>
    /// <param name="imagePath">Image path (ELF) or perf-style name (<c>[kernel.kallsyms]</c>, <c>[nf_tables]</c>).</param>
    /// <param name="kind">How to interpret <paramref name="offset"/>; see <see cref="ObjectKinds.Classify"/>.</param>
    /// <param name="offset">For <see cref="ObjectKind.Elf"/>: a <see cref="FileOffset"/> value. For
    /// <see cref="ObjectKind.Kernel"/> and <see cref="ObjectKind.KernelModule"/>: a <see cref="KernelAddress"/> value.</param>
    /// <param name="expectedBuildId">Build-id recorded with the sample (lowercase or uppercase hex), or null. On a
    /// mismatch with the file on disk the frame is left unresolved and a warning recorded.</param>
    /// <returns>The symbol, or null (no symbol covers the address, the image is unusable, or the kind has no symbols:
    /// <see cref="ObjectKind.Anonymous"/>, <see cref="ObjectKind.Unknown"/>). <see cref="ObjectKind.Vdso"/> frames are
    /// resolved against the running kernel's vDSO (<see cref="VdsoImage"/>) when <see cref="SymbolizerOptions.UseRunningVdso"/> is set.</returns>
    public ResolvedSymbol? Resolve(string imagePath, ObjectKind kind, ulong offset, string? expectedBuildId = null)
    {
        switch (kind)
        {
            case ObjectKind.Kernel:
            case ObjectKind.KernelModule:
                if (Kernel is not { } k || k.Find(new KernelAddress(offset)) is not { } m) return null;
                return new ResolvedSymbol(m.Name, m.Start.Value, m.Size, m.Offset);
            case ObjectKind.Elf:
            case ObjectKind.Vdso:
                var f = kind == ObjectKind.Vdso ? GetVdso(imagePath) : GetImage(imagePath, expectedBuildId);
                if (f == null) return null;
                if (expectedBuildId != null && !BuildIdMatches(f.BuildId, expectedBuildId))
                {
                    Warn(imagePath, f.BuildId == null
                        ? $"build-id mismatch: samples expect {expectedBuildId.ToLowerInvariant()} but the file has none; not symbolized"
                        : $"build-id mismatch: samples expect {expectedBuildId.ToLowerInvariant()} but the file has {f.BuildId} (rebuilt or upgraded since recording?); not symbolized");
                    return null;
                }
                if (!f.TryFileOffsetToSvma(new FileOffset(offset), out var svma)) return null;
                if (f.FindSymbol(svma) is { } s)
                    return new ResolvedSymbol(Shown(s.Name), s.Start.Value, s.Size, svma.Value - s.Start.Value) { MangledName = s.Name };
                if (kind != ObjectKind.Elf || !_options.RecoverFunctions || GetRecovery(f.Path) is not { } rec || rec.Find(svma) is not { } r) return null;
                var rn = NamedAfter(rec, r, imagePath);
                return new ResolvedSymbol(Shown(rn), r.Start.Value, r.Size, svma.Value - r.Start.Value) { MangledName = rn };
            default:
                return null;
        }
    }

    /// <summary>
    /// The object to read for image <paramref name="path"/> whose samples recorded <paramref name="buildId"/>: the copy in
    /// perf's build-id cache when it holds one with that build-id (or, when <paramref name="buildId"/> is null, with the
    /// build-id of the file at <paramref name="path"/>), else the file at <paramref name="path"/>. Its
    /// <see cref="ElfObjectFile.Path"/> says which was chosen; pass that path to <see cref="FindFunction"/>,
    /// <see cref="GetRecovery"/> and <see cref="CodeBytes"/> to stay on the same file. A cache entry whose build-id
    /// differs is ignored with a warning. The caller still checks the build-id of a file that is not from the cache
    /// (<see cref="Resolve"/> does). Null when nothing usable exists (a warning is recorded).
    /// </summary>
    /// <param name="path">Absolute image path as mapped.</param>
    /// <param name="buildId">Build-id recorded with the samples (hex, case ignored), or null.</param>
    public ElfObjectFile? GetImage(string path, string? buildId)
    {
        if (_cache == null) return GetImage(path);
        string? id = buildId?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(id))
        {
            var onDisk = GetImage(path);
            if (onDisk?.BuildId is not { } own || _originalOf.ContainsKey(path)) return onDisk;
            id = own;
        }
        return CachedCopy(path, id) ?? GetImage(path);
    }

    private ElfObjectFile? CachedCopy(string path, string id)
    {
        // One look at the cache per build-id: frames are resolved one by one.
        if (_copyOf.TryGetValue(id, out var known)) return known == null ? null : GetImage(known);
        _copyOf[id] = null;
        if (_cache!.Find(id) is not { ElfPath: { } copy } || Path.GetFullPath(copy) == Path.GetFullPath(path)) return null;
        _originalOf.TryAdd(copy, path);
        var f = GetImage(copy);
        if (f == null) return null;
        if (!BuildIdMatches(f.BuildId, id))
        {
            Warn(path, $"build-id cache entry {copy} has build-id {f.BuildId ?? "none"}, expected {id}; ignored");
            return null;
        }
        _copyOf[id] = copy;
        return f;
    }

    /// <summary>
    /// The opened file at <paramref name="path"/> (with debug symbols attached when found), or null when it cannot
    /// be used (a warning is then recorded). The build-id cache is not consulted: see <see cref="GetImage(string, string?)"/>.
    /// The symbolizer owns the returned object.
    /// </summary>
    public ElfObjectFile? GetImage(string path)
    {
        long now = Stopwatch.GetTimestamp();
        if (_images.TryGetValue(path, out var e))
        {
            if (Stopwatch.GetElapsedTime(e.CheckedAt, now) < TimeSpan.FromSeconds(1)) return e.File;
            e.CheckedAt = now;
            var (mt, len) = Stat(path);
            if (mt == e.MTime && len == e.Length) return e.File;
            if (e.File != null) Warn(path, "changed on disk since it was first read; reloaded");
            e.File?.Dispose();
            _images.Remove(path);
        }
        var (mtime, length) = Stat(path);
        var entry = new Entry { MTime = mtime, Length = length, CheckedAt = now, File = OpenImage(path) };
        _images[path] = entry;
        return entry.File;
    }

    /// <summary>
    /// The function containing <paramref name="address"/> in image <paramref name="path"/> (named as in <see cref="Resolve"/>): a symbol, else (when
    /// <see cref="SymbolizerOptions.RecoverFunctions"/>) a recovered function; null when neither covers it.
    /// </summary>
    public ResolvedSymbol? FindFunction(string path, Svma address)
    {
        if (GetImage(path) is not { } f) return null;
        if (f.FindSymbol(address) is { } s) return new ResolvedSymbol(Shown(s.Name), s.Start.Value, s.Size, address.Value - s.Start.Value) { MangledName = s.Name };
        if (!_options.RecoverFunctions || GetRecovery(path) is not { } rec || rec.Find(address) is not { } r) return null;
        var rn = NamedAfter(rec, r, path);
        return new ResolvedSymbol(Shown(rn), r.Start.Value, r.Size, address.Value - r.Start.Value) { MangledName = rn };
    }

    /// <summary>
    /// The name of recovered function <paramref name="r"/> as image <paramref name="imagePath"/> shows it: an unnamed
    /// function is <c>IMAGE+0xSTART</c> after the sampled image, also when the file read was another copy of it (perf's
    /// build-id cache keeps every copy as <c>…/BUILD-ID/elf</c>, which named them <c>elf+0x…</c>).
    /// </summary>
    private static string NamedAfter(FunctionRecovery rec, RecoveredFunction r, string imagePath)
    {
        var generated = FunctionRecovery.NameFor(rec.ImageName, r.Start.Value);
        return r.Name == generated && Path.GetFileName(imagePath) is { Length: > 0 } image && image != rec.ImageName
            ? FunctionRecovery.NameFor(image, r.Start.Value) : r.Name;
    }

    /// <summary>
    /// Functions recovered for image <paramref name="path"/> (computed once per opened file, and read from
    /// <see cref="SymbolizerOptions.CacheDirectory"/> when an earlier run saved them), or null when the image cannot be opened.
    /// </summary>
    public FunctionRecovery? GetRecovery(string path)
    {
        if (GetImage(path) is not { } f || !_images.TryGetValue(path, out var e)) return null;
        if (e.Recovery != null) return e.Recovery;
        string? key = _options.CacheDirectory == null ? null : SymbolsInternal.RecoveryCache.Key(path, f.BuildId, e.MTime, e.Length);
        // A debug file's symbols change what is "known": key the cache by it too.
        if (key != null && f.DebugFilePath != null) key += "-dbg";
        if (key != null && SymbolsInternal.RecoveryCache.TryLoad(_options.CacheDirectory!, key, Path.GetFileName(path)) is { } cached)
            return e.Recovery = cached;
        e.Recovery = FunctionRecovery.Recover(f);
        if (key != null) SymbolsInternal.RecoveryCache.TrySave(_options.CacheDirectory!, key, e.Recovery);
        return e.Recovery;
    }

    private readonly Dictionary<string, string> _shown = new(StringComparer.Ordinal);

    /// <summary>An ELF symbol name as <see cref="SymbolizerOptions.Demangle"/> shows it; a PLT entry <c>name@plt</c> is
    /// shown as <c>demangled@plt</c>, as perf's <c>dso__synthesize_plt_symbols</c> names it.</summary>
    private string Shown(string raw)
    {
        if (_options.Demangle == DemangleStyle.None) return raw;
        if (_shown.TryGetValue(raw, out var d)) return d;
        d = raw.EndsWith("@plt", StringComparison.Ordinal)
            ? Demangler.Demangle(raw[..^4], _options.Demangle) + "@plt"
            : Demangler.Demangle(raw, _options.Demangle);
        if (_shown.Count > 1_000_000) _shown.Clear();
        return _shown[raw] = d;
    }

    private ElfObjectFile? _vdso;
    private bool _vdsoTried;

    private ElfObjectFile? GetVdso(string name)
    {
        if (!_options.UseRunningVdso) return null;
        if (_vdsoTried) return _vdso;
        _vdsoTried = true;
        var bytes = VdsoImage.ReadCurrent();
        if (bytes == null) { Warn(name, "cannot read this process's [vdso] mapping; vDSO samples stay unresolved"); return null; }
        try { _vdso = ElfObjectFile.FromBytes(bytes, name); }
        catch (MalformedDataException ex) { Warn(name, $"malformed vDSO image ({ex.Message}); no symbols"); }
        return _vdso;
    }

    private static (DateTime, long) Stat(string path)
    {
        try
        {
            var fi = new FileInfo(path);
            return fi.Exists ? (fi.LastWriteTimeUtc, fi.Length) : (default, -1);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return (default, -1); }
    }

    private ElfObjectFile? OpenImage(string path)
    {
        ElfObjectFile f;
        try { f = ElfObjectFile.Open(path, _options.Demangle); }
        catch (FileNotFoundException) { Warn(path, "not found; its samples stay unresolved"); return null; }
        catch (DirectoryNotFoundException) { Warn(path, "not found; its samples stay unresolved"); return null; }
        // Executable mappings of files in other formats (the .NET runtime maps PE assemblies) simply have no ELF symbols.
        catch (MalformedDataException ex) when (ex.Structure == "e_ident" && ex.Offset == 0 && new FileInfo(path).Length > 64) { return null; }
        catch (MalformedDataException ex) { Warn(path, $"malformed ELF ({ex.Message}); no symbols"); return null; }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { Warn(path, $"cannot read ({ex.Message}); no symbols"); return null; }

        if (!f.HasSymtab && _options.UseDebugFiles) AttachDebug(f);
        return f;
    }

    private void AttachDebug(ElfObjectFile f)
    {
        var roots = new List<string>(_options.DebugDirectories);
        if (_options.UseSystemDebugRoot) roots.Add(DebugFileLocator.SystemDebugRoot);
        // A cache copy's debuglink name is relative to the image it was copied from.
        string original = _originalOf.GetValueOrDefault(f.Path, f.Path);
        var candidates = new List<string>();
        if (f.BuildId != null && _cache?.Find(f.BuildId) is { DebugPath: { } cachedDebug }) candidates.Add(cachedDebug);
        candidates.AddRange(DebugFileLocator.Candidates(original, f.BuildId, f.DebugLink, roots));
        foreach (var cand in candidates)
        {
            if (!File.Exists(cand)) continue;
            ElfObjectFile d;
            try { d = ElfObjectFile.Open(cand); }
            catch (Exception ex) when (ex is MalformedDataException or IOException or UnauthorizedAccessException)
            {
                Warn(f.Path, $"debug file {cand} unusable: {ex.Message}");
                continue;
            }
            if (f.BuildId != null && d.BuildId != null && f.BuildId != d.BuildId)
            {
                Warn(f.Path, $"debug file {cand} has build-id {d.BuildId}, image has {f.BuildId}; ignored");
                d.Dispose();
                continue;
            }
            if (!d.HasSymtab || Path.GetFullPath(cand) == Path.GetFullPath(f.Path)) { d.Dispose(); continue; }
            f.AttachDebugFile(d);
            return;
        }
    }

    /// <summary>Whether a file's build-id <paramref name="actual"/> is the recorded <paramref name="expected"/> (hex, case ignored; a zero-padded record matches).</summary>
    internal static bool BuildIdMatches(string? actual, string expected)
    {
        if (actual == null) return false;
        var e = expected.Trim().ToLowerInvariant();
        // perf.data build-id records without BUILD_ID_SIZE are zero-padded to 20 bytes (tools/perf/Documentation/perf.data-file-format.txt, HEADER_BUILD_ID).
        return e == actual || (e.Length > actual.Length && e.StartsWith(actual, StringComparison.Ordinal) && e.AsSpan(actual.Length).IndexOfAnyExcept('0') < 0);
    }

    private void Warn(string image, string message)
    {
        var w = new SymbolizerWarning(image, message);
        if (_warned.Add(w)) _warnings.Add(w);
    }

    /// <summary>
    /// JIT symbols for the anonymous code a session names <paramref name="perfMapPath"/> (<c>/tmp/perf-PID.map</c>):
    /// <c>jit-PID.dump</c> beside it when present, backed by the perf map for what the dump lacks, else the perf map
    /// alone (<see cref="JitSymbols.Open"/>); loaded once, null
    /// when neither can be read. Problems met (a truncated or corrupt dump) are recorded as warnings.
    /// </summary>
    public JitSymbols? GetJit(string perfMapPath)
    {
        if (_jit.TryGetValue(perfMapPath, out var j)) return j;
        j = JitSymbols.Open(perfMapPath);
        if (j?.Warning is { } w) Warn(j.SourcePath, w);
        return _jit[perfMapPath] = j;
    }

    /// <summary>The JIT function containing runtime address <paramref name="address"/> of <paramref name="perfMapPath"/>'s
    /// code (<see cref="GetJit"/>), or null.</summary>
    public ResolvedSymbol? ResolveJit(string perfMapPath, ulong address) => GetJit(perfMapPath)?.Find(address);

    /// <summary>Unmaps every cached image and closes JIT dumps.</summary>
    public void Dispose()
    {
        foreach (var j in _jit.Values) j?.Dispose();
        _jit.Clear();
        foreach (var e in _images.Values) e.File?.Dispose();
        _vdso?.Dispose();
        _images.Clear();
    }
}
