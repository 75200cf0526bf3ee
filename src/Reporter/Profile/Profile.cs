using XenProf.Sampler.Store;

namespace XenProf.Reporter.Profile;

/// <summary>
/// What a symbolizer said about one frame: the symbol name (null when nothing resolved) and the image's
/// display name. Produced through <see cref="IFrameSymbolizer"/>.
/// </summary>
public readonly record struct FrameName(string Image, string? Symbol);

/// <summary>The seam between the profile model and symbol lookup: names one (image, offset) frame.</summary>
public interface IFrameSymbolizer
{
    /// <summary>Returns the symbol containing <paramref name="offset"/> in <paramref name="image"/> (offset as <see cref="ImageKind"/> defines it), or null.</summary>
    string? Symbolize(StoredImage image, ulong offset);

    /// <summary>Warnings gathered while symbolizing (missing files, build-id mismatches), each once.</summary>
    IReadOnlyList<string> Warnings { get; }
}

/// <summary>
/// A frame located inside its function: the function's name and range and the frame's own address, all in the
/// image's address space (SVMA for ELF images, absolute kernel address for the kernel and modules).
/// </summary>
/// <param name="Name">Function name (a symbol, or a recovered <c>image+0xSTART</c>).</param>
/// <param name="Start">Function start.</param>
/// <param name="Size">Function extent in bytes.</param>
/// <param name="Address">The frame's address (what opreport <c>-d</c> prints as vma).</param>
public readonly record struct FrameSymbol(string Name, ulong Start, ulong Size, ulong Address);

/// <summary>Optional richer seam: a symbolizer that also says where in its function a frame lies (needed for
/// per-instruction details and annotation).</summary>
public interface IFrameAddressSymbolizer
{
    /// <summary>Locates <paramref name="offset"/> in <paramref name="image"/>; null when no function covers it.</summary>
    FrameSymbol? Locate(StoredImage image, ulong offset);
}

/// <summary>One sampled instruction address inside a symbol (opreport <c>-d</c>).</summary>
public sealed class InstructionRow
{
    internal InstructionRow(ulong vma, int events) { Vma = vma; Counts = new CountRow(events); }

    /// <summary>The address: SVMA for ELF images, absolute kernel address for the kernel and modules.</summary>
    public ulong Vma { get; }

    /// <summary>Samples per event.</summary>
    public CountRow Counts { get; }
}

/// <summary>Counts for one row of a report: samples per event, in <see cref="Profile.Events"/> order.</summary>
public sealed class CountRow
{
    internal CountRow(int events) => Samples = new long[events];

    /// <summary>Samples per event (index = position in <see cref="Profile.Events"/>).</summary>
    public long[] Samples { get; }

    /// <summary>Sum over all events, used for sorting.</summary>
    public long Total => Samples.Sum();
}

/// <summary>One image's totals (opreport's default summary).</summary>
public sealed class ImageRow
{
    internal ImageRow(StoredImage image, string name, int events) { Image = image; Name = name; Counts = new CountRow(events); }

    /// <summary>The stored image.</summary>
    public StoredImage Image { get; }

    /// <summary>Display name (basename, or <c>[kernel.kallsyms]</c>, <c>[modname]</c>…).</summary>
    public string Name { get; }

    /// <summary>Samples per event.</summary>
    public CountRow Counts { get; }
}

/// <summary>One symbol's totals (opreport <c>-l</c>); <see cref="Symbol"/> is <c>(no symbols)</c> for the unresolved rest of an image.</summary>
public sealed class SymbolRow
{
    internal SymbolRow(ImageRow image, string symbol, int events) { ImageRow = image; Symbol = symbol; Counts = new CountRow(events); }

    /// <summary>The image the symbol lives in.</summary>
    public ImageRow ImageRow { get; }

    /// <summary>Symbol name, or <see cref="Profile.NoSymbols"/>.</summary>
    public string Symbol { get; }

    /// <summary>Function start in the image's address space (0 when unknown; only set with <see cref="ProfileOptions.WithDetails"/>).</summary>
    public ulong Start { get; internal set; }

    /// <summary>Function extent in bytes (0 when unknown; only set with <see cref="ProfileOptions.WithDetails"/>).</summary>
    public ulong Size { get; internal set; }

    /// <summary>Per-address counts sorted by address (only with <see cref="ProfileOptions.WithDetails"/>, else empty).</summary>
    public IReadOnlyList<InstructionRow> Details => _details == null ? [] : _sorted ??= _details.Values.OrderBy(d => d.Vma).ToList();

    private Dictionary<ulong, InstructionRow>? _details;
    private List<InstructionRow>? _sorted;

    internal InstructionRow Detail(ulong vma)
    {
        _details ??= [];
        _sorted = null;
        if (!_details.TryGetValue(vma, out var d)) _details[vma] = d = new InstructionRow(vma, Counts.Samples.Length);
        return d;
    }

    /// <summary>Samples per event.</summary>
    public CountRow Counts { get; }
}

/// <summary>One resolved stack with its sample count: frames root first (process name first), for flame graphs.</summary>
public sealed record ResolvedStack(int Domain, int Pid, string Process, IReadOnlyList<(string Name, ImageKind Kind)> Frames, EventId Event, long Samples);

/// <summary>
/// The in-memory profile the renderers share, derived from a session store (never a second source of
/// truth): events, header facts, per-image and per-symbol totals, and resolved stacks.
/// </summary>
public sealed class Profile
{
    /// <summary>Symbol name opreport prints for samples no symbol covers.</summary>
    public const string NoSymbols = "(no symbols)";

    /// <summary>Meta key the builder adds when the profile is restricted to one domain (opreport <c>--domain=N</c>).</summary>
    public const string ReportDomainKey = "report_domain";

    internal Profile(IReadOnlyList<StoredEvent> events, IReadOnlyDictionary<string, string> meta, IReadOnlyDictionary<string, long> counters,
        long[] totals, IReadOnlyList<ImageRow> images, IReadOnlyList<SymbolRow> symbols, IReadOnlyList<ResolvedStack> stacks, IReadOnlyList<string> warnings)
    {
        Events = events; Meta = meta; Counters = counters; Totals = totals; Images = images; Symbols = symbols; Stacks = stacks; Warnings = warnings;
    }

    /// <summary>Events in store order; every count array is indexed the same way.</summary>
    public IReadOnlyList<StoredEvent> Events { get; }

    /// <summary>Session facts (<c>meta</c> table): cpu, hostname, kernel, default-event note.</summary>
    public IReadOnlyDictionary<string, string> Meta { get; }

    /// <summary>Session counters: lost samples, throttling, unknown records (see <see cref="CounterNames"/>).</summary>
    public IReadOnlyDictionary<string, long> Counters { get; }

    /// <summary>Total samples per event.</summary>
    public long[] Totals { get; }

    /// <summary>Images sorted by samples, descending.</summary>
    public IReadOnlyList<ImageRow> Images { get; }

    /// <summary>Symbols sorted by samples, descending (ties by image then symbol name).</summary>
    public IReadOnlyList<SymbolRow> Symbols { get; }

    /// <summary>Resolved stacks (only when built with <see cref="ProfileOptions.WithStacks"/>).</summary>
    public IReadOnlyList<ResolvedStack> Stacks { get; }

    /// <summary>Symbolization warnings, each once.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Value of counter <paramref name="name"/>, 0 when absent.</summary>
    public long Counter(string name) => Counters.TryGetValue(name, out var v) ? v : 0;

    /// <summary>
    /// Percentage of <paramref name="samples"/> in <paramref name="total"/> and its sampling error: the
    /// binomial standard error <c>sqrt(p(1−p)/N)</c>, in percentage points.
    /// </summary>
    public static (double Percent, double Error) Share(long samples, long total)
    {
        if (total <= 0) return (0, 0);
        double p = (double)samples / total;
        return (100 * p, 100 * Math.Sqrt(p * (1 - p) / total));
    }
}

/// <summary>Options for <see cref="ProfileBuilder.Build"/>.</summary>
public sealed record ProfileOptions
{
    /// <summary>Only samples of this Xen domain (null = all).</summary>
    public int? Domain { get; init; }

    /// <summary>Also resolve every stack (needed by flame graphs; costs a symbol lookup per distinct frame).</summary>
    public bool WithStacks { get; init; }

    /// <summary>Also count samples per instruction address inside each symbol (opreport <c>-d</c>, opannotate); needs a
    /// symbolizer implementing <see cref="IFrameAddressSymbolizer"/>.</summary>
    public bool WithDetails { get; init; }
}
