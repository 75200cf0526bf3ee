using XenProf.Reporter.Profile;
using XenProf.Reporter.Symbols;
using XenProf.Reporter.Text.TextInternal;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Text;

/// <summary>A source position of an instruction (DWARF line table through <c>addr2line</c>) and the line's text when the file is readable.</summary>
/// <param name="File">Source file as the line table names it.</param>
/// <param name="Line">1-based line number.</param>
/// <param name="Text">The line's text, or null when the file cannot be read.</param>
public sealed record SourcePosition(string File, int Line, string? Text);

/// <summary>One decoded instruction of an annotated function with its sample counts.</summary>
/// <param name="Address">The instruction's address (SVMA, or kernel/hypervisor/JIT address).</param>
/// <param name="Text">The objdump-style lines (<c>  401136:\t55                   \tpush   %rbp</c>); long byte runs continue on further lines.</param>
/// <param name="Samples">Samples per event whose IP lies in this instruction (indexed as <see cref="Profile.Profile.Events"/>).</param>
/// <param name="Adjusted">Samples per event charged here after skid adjustment (<see cref="FunctionDisassembly.SkidAdjust"/>).</param>
/// <param name="Source">Its source position, or null without line information (or when sources were not asked for).</param>
public sealed record AnnotatedInstruction(ulong Address, IReadOnlyList<string> Text, long[] Samples, long[] Adjusted, SourcePosition? Source);

/// <summary>
/// The data of one opannotate listing (oprofile's opannotate(1)): a sampled function disassembled with Iced from its
/// code bytes, each sample folded onto the instruction that covers its IP (and, skid-adjusted, onto the one before),
/// optionally with DWARF source positions. <see cref="OpannotateWriter"/> prints it in objdump's layout; the web view
/// serves it as JSON. When the code cannot be read, <see cref="Problem"/> says why and there are no instructions.
/// </summary>
public sealed class FunctionAnnotation
{
    private FunctionAnnotation(SymbolRow row) => Row = row;

    /// <summary>The function's row of the flat profile (name, image, start, size, totals per event).</summary>
    public SymbolRow Row { get; }

    /// <summary>Why there is no disassembly (no code for the image kind, unreadable bytes), or null.</summary>
    public string? Problem { get; private set; }

    /// <summary>Why there are no source positions although they were asked for, or null.</summary>
    public string? SourceNote { get; private set; }

    /// <summary>The instructions in address order.</summary>
    public IReadOnlyList<AnnotatedInstruction> Instructions { get; private set; } = [];

    /// <summary>Byte sequences Iced could not decode (shown as <c>(bad)</c>).</summary>
    public int InvalidCount { get; private set; }

    /// <summary>
    /// Where each sampled address of <see cref="SymbolRow.Details"/> is counted: the index in <see cref="Instructions"/> of
    /// its instruction and of the one its skid-adjusted samples go to. Addresses outside the decoded bytes are absent.
    /// </summary>
    public IReadOnlyDictionary<ulong, (int Raw, int Adjusted)> DetailIndex { get; private set; } = new Dictionary<ulong, (int, int)>();

    /// <summary>Samples (all events) whose IP lies outside the decoded bytes.</summary>
    public long Outside { get; private set; }

    /// <summary>
    /// Annotates <paramref name="row"/> of <paramref name="profile"/> (built with <see cref="ProfileOptions.WithDetails"/>).
    /// <paramref name="options"/> gives the syntax, whether to look up source positions and the largest function decoded.
    /// Never throws for unreadable code: <see cref="Problem"/> says what is missing.
    /// </summary>
    public static FunctionAnnotation Build(Profile.Profile profile, SymbolRow row, Symbolizer symbolizer, CodeBytes code, OpannotateOptions options) =>
        Build(profile, row, symbolizer, code, new SourceLines(), options);

    internal static FunctionAnnotation Build(Profile.Profile profile, SymbolRow row, Symbolizer symbolizer, CodeBytes code, SourceLines sources, OpannotateOptions o)
    {
        var a = new FunctionAnnotation(row);
        int events = profile.Events.Count;
        string name = row.Symbol;
        if (CodeKind(row.ImageRow.Image, symbolizer, code, o.RecordedElsewhere, out var why) is not { } ck)
        {
            a.Problem = why;
            return a;
        }
        int length = (int)Math.Min(row.Size, (ulong)o.MaxFunctionBytes);
        var bytes = code.Read(ck.Path, ck.Kind, row.Start, length);
        if (bytes == null)
        {
            a.Problem = $"cannot read its code: {code.Why(ck.Kind)}";
            return a;
        }
        int bitness = ck.Kind == ObjectKind.Elf && symbolizer.GetImage(ck.Path) is { } elf && elf.Machine == 3 ? 32 : 64;
        var dis = FunctionDisassembly.Decode(bytes, row.Start, bitness);
        a.InvalidCount = dis.InvalidCount;

        int n = dis.Instructions.Count;
        var raw = new long[n][];
        var adj = new long[n][];
        for (int i = 0; i < n; i++) { raw[i] = new long[events]; adj[i] = new long[events]; }
        var index = new Dictionary<ulong, (int, int)>();
        a.DetailIndex = index;
        foreach (var d in row.Details)
        {
            int i = dis.IndexOf(d.Vma);
            if (i < 0) { a.Outside += d.Counts.Total; continue; }
            int j = dis.IndexOf(dis.SkidAdjust(d.Vma));
            index[d.Vma] = (i, j);
            for (int e = 0; e < events; e++) { raw[i][e] += d.Counts.Samples[e]; adj[j][e] += d.Counts.Samples[e]; }
        }

        Dictionary<ulong, (string File, int Line)>? lineOf = null;
        if (o.Source)
        {
            var debugFile = DebugInfoFile(symbolizer, ck);
            if (debugFile == null) a.SourceNote = $"no DWARF line table for {row.ImageRow.Name} (no .debug_line and no separate debug file); source lines not shown";
            else
            {
                lineOf = sources.Lookup(debugFile, dis.Instructions.Select(x => x.IP).ToList());
                if (lineOf.Count == 0) a.SourceNote = $"addr2line found no line information for {name} in {debugFile}";
            }
        }

        string? Target(ulong t)
        {
            if (t >= row.Start && t - row.Start < row.Size) return t == row.Start ? name : $"{name}+0x{t - row.Start:x}";
            ResolvedSymbol? r = ck.Kind == ObjectKind.Elf ? symbolizer.FindFunction(ck.Path, new Svma(t))
                : ck.Kind == ObjectKind.Anonymous ? symbolizer.ResolveJit(ck.Path, t)
                : symbolizer.Kernel?.Find(new KernelAddress(t)) is { } k ? new ResolvedSymbol(k.Name, k.Start.Value, k.Size, k.Offset) : null;
            return r is not { } s ? null : s.Offset == 0 ? s.Name : $"{s.Name}+0x{s.Offset:x}";
        }
        var fmt = new ObjdumpText(o.Syntax, t => Target(t));
        var list = new AnnotatedInstruction[n];
        for (int i = 0; i < n; i++)
        {
            var ins = dis.Instructions[i];
            var text = new List<string>(1);
            fmt.Lines(ins, dis.InstructionBytes(i), text);
            SourcePosition? src = lineOf != null && lineOf.TryGetValue(ins.IP, out var sl) ? new SourcePosition(sl.File, sl.Line, sources.Text(sl.File, sl.Line)) : null;
            list[i] = new AnnotatedInstruction(ins.IP, text, raw[i], adj[i], src);
        }
        a.Instructions = list;
        return a;
    }

    // ELF code is read from the file the symbols came from: perf's build-id cache copy when it has the recorded build-id.
    internal static (ObjectKind Kind, string Path)? CodeKind(StoredImage image, Symbolizer symbolizer) => CodeKind(image, symbolizer, null, false, out _);

    /// <summary>
    /// Where the code of <paramref name="image"/> is read, or null with <paramref name="why"/> saying what is missing.
    /// ELF code comes from the file whose build-id is the recorded one (perf's build-id cache copy, else the file at the
    /// image's path), or from the file at the path when none was recorded. <paramref name="elsewhere"/>: the samples were
    /// taken on another host (the fleet database), so its hypervisor image is checked the same way, its kernel is read
    /// only from <see cref="CodeBytes.Vmlinux"/> (this machine's <c>/proc/kcore</c> is another kernel) and its modules and
    /// JIT code, which live only on that host, are not read.
    /// </summary>
    internal static (ObjectKind Kind, string Path)? CodeKind(StoredImage image, Symbolizer symbolizer, CodeBytes? code, bool elsewhere, out string why)
    {
        why = "";
        switch (image.Kind)
        {
            case ImageKind.Elf:
            case ImageKind.Hypervisor when elsewhere:
                return Binary(image, symbolizer, out why) is { } path ? (ObjectKind.Elf, path) : null;
            case ImageKind.Hypervisor:
                return (ObjectKind.Elf, image.Path);
            case ImageKind.Kernel when elsewhere:
                if (code?.Vmlinux is not { } vmlinux)
                {
                    why = "kernel code of the recording host: this machine's /proc/kcore holds another kernel; pass --vmlinux with that host's kernel image";
                    return null;
                }
                if (image.BuildId != null && symbolizer.GetImage(vmlinux) is { } v && !Symbolizer.BuildIdMatches(v.BuildId, image.BuildId))
                {
                    why = $"--vmlinux {vmlinux} has build-id {v.BuildId ?? "none"}, the recording host's kernel {image.BuildId}";
                    return null;
                }
                return (ObjectKind.Kernel, image.Path);
            case ImageKind.Kernel:
                return (ObjectKind.Kernel, image.Path);
            case ImageKind.KernelModule when elsewhere:
                why = "module code of the recording host is not on this machine";
                return null;
            case ImageKind.KernelModule:
                return (ObjectKind.KernelModule, image.Path);
            case ImageKind.Anonymous when StoreFrameSymbolizer.IsPerfMap(image):
                if (!elsewhere) return (ObjectKind.Anonymous, image.Path);
                why = "JIT code lives in the recording host's jit-PID.dump, which is not pushed";
                return null;
            default:
                why = $"no code for images of kind {image.Kind}: no code bytes were captured for this kind of image (anonymous memory)";
                return null;
        }
    }

    // The file with the recorded build-id, or the file at the path when none was recorded.
    private static string? Binary(StoredImage image, Symbolizer symbolizer, out string why)
    {
        why = "";
        var f = image.Kind == ImageKind.Elf ? symbolizer.GetImage(image.Path, image.BuildId) : symbolizer.GetImage(image.Path);
        if (f != null && (image.BuildId == null || Symbolizer.BuildIdMatches(f.BuildId, image.BuildId))) return f.Path;
        if (image.BuildId == null)
        {
            why = $"no binary here: {image.Path} is missing or unreadable";
            return null;
        }
        string cache = symbolizer.Options.BuildIdCacheDirectory is { Length: > 0 } c ? $"perf's build-id cache {c} has no copy" : "no build-id cache is searched";
        why = f == null ? $"no binary with build-id {image.BuildId} here: {image.Path} is missing and {cache}"
            : $"no binary with build-id {image.BuildId} here: {image.Path} has build-id {f.BuildId ?? "none"} and {cache}";
        return null;
    }

    internal static string? DebugInfoFile(Symbolizer symbolizer, (ObjectKind Kind, string Path) ck)
    {
        if (ck.Kind != ObjectKind.Elf || symbolizer.GetImage(ck.Path) is not { } f) return null;
        if (f.FindSection(".debug_line") != null) return f.Path;
        return f.DebugFilePath;
    }
}
