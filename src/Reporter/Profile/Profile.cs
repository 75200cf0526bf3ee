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
    internal InstructionRow(ulong vma, int events, int classes) { Vma = vma; Counts = new CountRow(events, classes); }

    /// <summary>The address: SVMA for ELF images, absolute kernel address for the kernel and modules.</summary>
    public ulong Vma { get; }

    /// <summary>Samples and periods per event.</summary>
    public CountRow Counts { get; }
}

/// <summary>
/// Counts for one row of a report, per event in <see cref="Profile.Events"/> order: how many samples fell in it and the
/// sum of their periods (events, in the event's unit: ns for cpu-clock), and, when the report is separated into columns
/// by thread group, thread or CPU, both per column (<see cref="Profile.Columns"/>). Shares are of the period, as perf
/// report's percentages are (tools/perf/util/hist.c sums each entry's <c>period</c>; <c>-n</c> shows the sample count
/// beside it).
/// </summary>
public sealed class CountRow
{
    internal CountRow(int events, int classes = 0)
    {
        Samples = new long[events];
        Period = new long[events];
        if (classes > 0) { ByClass = new long[classes]; PeriodByClass = new long[classes]; }
    }

    /// <summary>Samples per event (index = position in <see cref="Profile.Events"/>).</summary>
    public long[] Samples { get; }

    /// <summary>Sum of the samples' periods per event, in the event's unit (index as <see cref="Samples"/>).</summary>
    public long[] Period { get; }

    /// <summary>Samples per separated column (index = <see cref="ProfileClass.Index"/>), or null when the report has one
    /// column per event.</summary>
    public long[]? ByClass { get; }

    /// <summary>Sum of the samples' periods per separated column (index as <see cref="ByClass"/>), or null with it.</summary>
    public long[]? PeriodByClass { get; }

    /// <summary>Samples of this row in column <paramref name="column"/>.</summary>
    public long Of(ProfileClass column) => ByClass != null ? ByClass[column.Index] : Samples[column.Event];

    /// <summary>Sum of the periods of this row's samples in column <paramref name="column"/> (the event's unit).</summary>
    public long PeriodOf(ProfileClass column) => PeriodByClass != null ? PeriodByClass[column.Index] : Period[column.Event];

    internal void Add(int ev, int cls, long weight, long period)
    {
        Samples[ev] += weight;
        Period[ev] += period;
        if (ByClass != null) { ByClass[cls] += weight; PeriodByClass![cls] += period; }
    }

    /// <summary>Sum over all events, used for sorting.</summary>
    public long Total => Samples.Sum();
}

/// <summary>One image's totals (opreport's default summary); with <see cref="Separation.Lib"/> one image inside one application.</summary>
public sealed class ImageRow
{
    internal ImageRow(StoredImage image, string name, int events, int classes = 0, AppRow? app = null)
    {
        Image = image; Name = name; Counts = new CountRow(events, classes); App = app;
    }

    /// <summary>The application the samples are counted under (<see cref="Separation.Lib"/>), or null when applications are merged.</summary>
    public AppRow? App { get; }

    /// <summary>The stored image.</summary>
    public StoredImage Image { get; }

    /// <summary>Display name (basename, or <c>[kernel.kallsyms]</c>, <c>[modname]</c>…).</summary>
    public string Name { get; }

    /// <summary>Samples and periods per event.</summary>
    public CountRow Counts { get; }
}

/// <summary>A place in a source file: <paramref name="File"/> as the DWARF line table names it, <paramref name="Line"/> 1-based.</summary>
public readonly record struct SourceLocation(string File, int Line);

/// <summary>One symbol's totals (opreport <c>-l</c>); <see cref="Symbol"/> is <c>(no symbols)</c> for the unresolved rest of an image.</summary>
public sealed class SymbolRow
{
    internal SymbolRow(ImageRow image, string symbol, int events, int classes = 0) { ImageRow = image; Symbol = symbol; Counts = new CountRow(events, classes); }

    /// <summary>The image the symbol lives in.</summary>
    public ImageRow ImageRow { get; }

    /// <summary>Symbol name, or <see cref="Profile.NoSymbols"/>.</summary>
    public string Symbol { get; }

    /// <summary>Function start in the image's address space (0 when unknown; only set with <see cref="ProfileOptions.WithDetails"/>).</summary>
    public ulong Start { get; internal set; }

    /// <summary>Function extent in bytes (0 when unknown; only set with <see cref="ProfileOptions.WithDetails"/>).</summary>
    public ulong Size { get; internal set; }

    /// <summary>Source file and line of the function's start (opreport <c>-g</c>), filled by
    /// <see cref="XenProf.Reporter.Text.OpreportDebugInfo.Attach"/>; null when not asked for or unknown.</summary>
    public SourceLocation? Source { get; internal set; }

    /// <summary>Per-address counts sorted by address (only with <see cref="ProfileOptions.WithDetails"/>, else empty).</summary>
    public IReadOnlyList<InstructionRow> Details => _details == null ? [] : _sorted ??= _details.Values.OrderBy(d => d.Vma).ToList();

    private Dictionary<ulong, InstructionRow>? _details;
    private List<InstructionRow>? _sorted;

    /// <summary>
    /// The address of <paramref name="leaf"/>'s samples in <see cref="Details"/> (the <see cref="InstructionRow.Vma"/> they
    /// were counted under), or null when no sample ended there or the profile was built without
    /// <see cref="ProfileOptions.WithDetails"/>.
    /// </summary>
    public ulong? DetailAddress(Location leaf) => _addressOf != null && _addressOf.TryGetValue(leaf.Index, out var a) ? a : null;

    private Dictionary<int, ulong>? _addressOf;

    internal InstructionRow Detail(Location leaf, ulong vma)
    {
        (_addressOf ??= [])[leaf.Index] = vma;
        return Detail(vma);
    }

    internal InstructionRow Detail(ulong vma)
    {
        _details ??= [];
        _sorted = null;
        if (!_details.TryGetValue(vma, out var d)) _details[vma] = d = new InstructionRow(vma, Counts.Samples.Length, Counts.ByClass?.Length ?? 0);
        return d;
    }

    /// <summary>Samples and periods per event.</summary>
    public CountRow Counts { get; }
}

/// <summary>
/// One application of a report separated by library (<see cref="Separation.Lib"/>; oprofile's <c>app_summary</c> in
/// pp/opreport.cpp): the executable a process ran, with the totals of every image sampled on its behalf.
/// </summary>
public sealed class AppRow
{
    private readonly List<ImageRow> _images = [];

    internal AppRow(StoredImage image, string name, int events, int classes) { Image = image; Name = name; Counts = new CountRow(events, classes); }

    /// <summary>The application's image: the process's executable, or the sampled image itself when the process is not
    /// known to have run one (kernel threads; kernel samples without <see cref="Separation.Kernel"/>).</summary>
    public StoredImage Image { get; }

    /// <summary>Display name, as <see cref="ImageRow.Name"/>.</summary>
    public string Name { get; }

    /// <summary>Samples of the application and every image under it.</summary>
    public CountRow Counts { get; }

    /// <summary>The images sampled under this application, its own first when sampled, then by samples descending.</summary>
    public IReadOnlyList<ImageRow> Images => _images;

    /// <summary>True when an image other than the application's own was sampled under it (opreport then prints the sub-rows).</summary>
    public bool HasDependents => _images.Any(i => i.Image.Id != Image.Id);

    internal void AddImage(ImageRow row) => _images.Add(row);

    internal void SortImages() => _images.Sort((a, b) =>
        a.Image.Id == Image.Id ? -1 : b.Image.Id == Image.Id ? 1
        : b.Counts.Total != a.Counts.Total ? b.Counts.Total.CompareTo(a.Counts.Total) : string.CompareOrdinal(a.Name, b.Name));
}

/// <summary>
/// One column group of a report: an event, or with <see cref="Separation.Tgid"/>, <see cref="Separation.Tid"/> or
/// <see cref="Separation.Cpu"/> one (event, thread group, thread, CPU) combination that has samples (oprofile's profile
/// class, libpp/arrange_profiles.cpp). Columns are ordered as opreport orders its classes: by CPU, thread group,
/// thread, then event.
/// </summary>
/// <param name="Index">Position in <see cref="Profile.Columns"/>.</param>
/// <param name="Event">The event's index in <see cref="Profile.Events"/>.</param>
/// <param name="Tgid">The thread group (process id), or null when thread groups are merged.</param>
/// <param name="Tid">The thread id, or null when threads are merged.</param>
/// <param name="Cpu">The CPU, or null when CPUs are merged.</param>
/// <param name="Name">Short name for a column header: <c>EVENT:COUNT</c> for an event column, else what varies between
/// columns as opreport names it (<c>tid:1234</c>, <c>tgid:1234</c>, <c>cpu:0</c>), space-separated when several vary.</param>
/// <param name="LongName">The header line opreport prints for a separated column (<c>Samples on CPU 0</c>, <c>Processes
/// with a thread ID of 1234</c>), or null for an event column (its <c>Counted …</c> line describes it).</param>
/// <param name="Total">Samples in this column.</param>
/// <param name="PeriodTotal">Sum of the periods of this column's samples (the event's unit): the total percentages are
/// taken of.</param>
/// <param name="EffectiveSamples">Kish's effective sample size of this column's samples (<see cref="Profile.EffectiveSamples"/>):
/// what its error bars are computed on.</param>
public sealed record ProfileClass(int Index, int Event, int? Tgid, int? Tid, int? Cpu, string Name, string? LongName, long Total,
    long PeriodTotal, double EffectiveSamples)
{
    /// <summary>
    /// The share of <paramref name="period"/> (a sum of sample periods in this column, the event's unit) and its error
    /// (<see cref="Profile.Share(long, long, double)"/>): of this column's total, or with <paramref name="within"/> of that
    /// row's period in this column, its effective samples scaled as the column's are (n_eff / N).
    /// </summary>
    public (double Percent, double Error) ShareOf(long period, CountRow? within = null)
    {
        if (within == null) return Profile.Share(period, PeriodTotal, EffectiveSamples);
        double effective = Total > 0 ? within.Of(this) * EffectiveSamples / Total : 0;
        return Profile.Share(period, within.PeriodOf(this), effective);
    }
}

/// <summary>
/// The one profile model every report and export reads, built once per query by <see cref="ProfileBuilder"/> (the only
/// code in Reporter that reads a session store), in the spirit of pprof's profile.proto: sample types
/// (<see cref="Events"/>), samples with labels domain/pid/tid/cpu/time (<see cref="Samples"/>, or aggregated by stack in
/// <see cref="StackTotals"/>), locations with their functions and mappings (<see cref="Locations"/>), stacks as a prefix
/// tree of locations (<see cref="StackOf"/>), and the domains, processes and threads the labels name. Per-image and
/// per-symbol totals (opreport) are derived once from the same rows.
/// </summary>
public sealed class Profile
{
    /// <summary>Symbol name opreport prints for samples no symbol covers.</summary>
    public const string NoSymbols = "(no symbols)";

    /// <summary>Meta key the builder adds when the profile is restricted to one domain (opreport <c>--domain=N</c>).</summary>
    public const string ReportDomainKey = "report_domain";

    private readonly IReadOnlyDictionary<StackId, StoredStack> _stacks;
    private readonly IReadOnlyDictionary<FrameId, Location> _byFrame;
    private readonly Dictionary<StackId, Location[]> _resolved;

    internal Profile(ProfileOptions query, IReadOnlyList<StoredEvent> events, IReadOnlyDictionary<string, string> meta, IReadOnlyDictionary<string, long> counters,
        long[] totals, long[] periodTotals, double[] effectiveSamples, IReadOnlyList<ImageRow> images, IReadOnlyList<SymbolRow> symbols, IReadOnlyList<string> warnings,
        ProfileLabels labels, IReadOnlyList<Location> locations, IReadOnlyDictionary<StackId, StoredStack> stacks,
        IReadOnlyDictionary<FrameId, Location> byFrame, Dictionary<StackId, Location[]> resolved, IReadOnlyList<StackTotal> stackTotals, IReadOnlyList<StoredSample> samples, long firstSampleNs,
        Separation separation, IReadOnlyList<ProfileClass> columns, IReadOnlyList<AppRow> applications)
    {
        Separation = separation; Columns = columns; Applications = applications;
        Query = query; Events = events; Meta = meta; Counters = counters; Totals = totals; PeriodTotals = periodTotals; EffectiveSamples = effectiveSamples; Images = images; Symbols = symbols; Warnings = warnings;
        Labels = labels; Locations = locations; _stacks = stacks; _byFrame = byFrame; _resolved = resolved; StackTotals = stackTotals; Samples = samples; FirstSampleNs = firstSampleNs;
    }

    /// <summary>The query this profile answers, with any relative time window made absolute.</summary>
    public ProfileOptions Query { get; }

    /// <summary>Events in store order; every count array is indexed the same way.</summary>
    public IReadOnlyList<StoredEvent> Events { get; }

    /// <summary>Session facts (<c>meta</c> table): cpu, hostname, kernel, default-event note.</summary>
    public IReadOnlyDictionary<string, string> Meta { get; }

    /// <summary>Session counters: lost samples, throttling, unknown records (see <see cref="CounterNames"/>).</summary>
    public IReadOnlyDictionary<string, long> Counters { get; }

    /// <summary>Total samples per event.</summary>
    public long[] Totals { get; }

    /// <summary>Total period per event (events, the event's unit): what report percentages are shares of.</summary>
    public long[] PeriodTotals { get; }

    /// <summary>
    /// Effective sample count per event, n_eff = (Σperiod)² / Σperiod² (Kish's effective sample size of weighted samples):
    /// the sample count when every sample has the same period, fewer when periods differ (frequency-mode recordings).
    /// Error bars are computed on it.
    /// </summary>
    public double[] EffectiveSamples { get; }

    /// <summary>The period share of <paramref name="row"/> in event <paramref name="e"/>'s total and its error (see <see cref="Share(long, long, double)"/>).</summary>
    public (double Percent, double Error) PeriodShare(CountRow row, int e) => Share(row.Period[e], PeriodTotals[e], EffectiveSamples[e]);

    /// <summary>Images sorted by samples, descending; with <see cref="Separation.Lib"/> one row per (application, image).</summary>
    public IReadOnlyList<ImageRow> Images { get; }

    /// <summary>What this profile keeps apart (<see cref="ProfileOptions.Separate"/>).</summary>
    public Separation Separation { get; }

    /// <summary>
    /// The report's column groups: one per event, or with thread-group, thread or CPU separation one per combination that
    /// has samples (<see cref="ProfileClass"/>). <see cref="CountRow.Of"/> reads a row's samples in a column.
    /// </summary>
    public IReadOnlyList<ProfileClass> Columns { get; }

    /// <summary>With <see cref="Separation.Lib"/>: the applications, by samples descending, each with its images; else empty.</summary>
    public IReadOnlyList<AppRow> Applications { get; }

    /// <summary>Symbols sorted by samples, descending (ties by image then symbol name); with <see cref="Separation.Lib"/>
    /// one row per (application, image, symbol).</summary>
    public IReadOnlyList<SymbolRow> Symbols { get; }

    /// <summary>Symbolization warnings, each once.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>What sample labels refer to: domains, processes, threads, thread names.</summary>
    public ProfileLabels Labels { get; }

    /// <summary>Every location named so far, in <see cref="Location.Index"/> order.</summary>
    public IReadOnlyList<Location> Locations { get; }

    /// <summary>
    /// The selected samples aggregated by (event, domain, pid, thread name, stack): <see cref="StackTotal.Samples"/> counts
    /// them, <see cref="StackTotal.Weight"/> sums their weights. The domain is the one the samples ran in (a passive domain's
    /// too, though they are selected as dom0's).
    /// </summary>
    public IReadOnlyList<StackTotal> StackTotals { get; }

    /// <summary>The selected samples in time order (ties in storage order), with the domains they ran in; empty unless built with <see cref="ProfileOptions.WithSamples"/>.</summary>
    public IReadOnlyList<StoredSample> Samples { get; }

    /// <summary>Time of the session's first sample (session clock, ns), or 0 when it has none.</summary>
    public long FirstSampleNs { get; }

    /// <summary>
    /// The locations of stack node <paramref name="stack"/> (a sampled stack or any of its callers' prefixes), root first
    /// (outermost caller first, the node's own location last); cached. Not thread-safe. Throws
    /// <see cref="InvalidOperationException"/> for a stack of a profile built without <see cref="ProfileOptions.WithStacks"/>.
    /// </summary>
    public IReadOnlyList<Location> StackOf(StackId stack)
    {
        if (_resolved.TryGetValue(stack, out var r)) return r;
        int depth = 0;
        for (var s = stack; s.Value != 0; s = _stacks[s].Parent) depth++;
        r = new Location[depth];
        int i = depth;
        for (var s = stack; s.Value != 0; s = _stacks[s].Parent)
            r[--i] = _byFrame.TryGetValue(_stacks[s].Frame, out var l) ? l
                : throw new InvalidOperationException($"stack {stack.Value} was not resolved: build the profile WithStacks");
        return _resolved[stack] = r;
    }

    /// <summary>The caller's node of stack node <paramref name="stack"/> (0 at the root).</summary>
    public StackId ParentStack(StackId stack) => _stacks[stack].Parent;

    /// <summary>Value of counter <paramref name="name"/>, 0 when absent.</summary>
    public long Counter(string name) => Counters.TryGetValue(name, out var v) ? v : 0;

    /// <summary>The event named <paramref name="name"/> (case-insensitive), or the first event when null; throws <see cref="XenProf.Hypervisor.Binary.XenProfUserException"/> for an unknown name.</summary>
    public StoredEvent PickEvent(string? name)
    {
        if (Events.Count == 0) throw new XenProf.Hypervisor.Binary.XenProfUserException("the session has no events");
        if (name == null) return Events[0];
        return Events.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new XenProf.Hypervisor.Binary.XenProfUserException($"event {name} is not in this session (it has {string.Join(", ", Events.Select(e => e.Name))})");
    }

    /// <summary>
    /// Percentage of <paramref name="samples"/> in <paramref name="total"/> and its sampling error: the
    /// binomial standard error <c>sqrt(p(1−p)/N)</c>, in percentage points.
    /// </summary>
    public static (double Percent, double Error) Share(long samples, long total) => Share(samples, total, total);

    /// <summary>
    /// Percentage of <paramref name="part"/> in <paramref name="total"/> (periods or samples) and its sampling error: the
    /// binomial standard error <c>sqrt(p(1−p)/n)</c> on <paramref name="effectiveSamples"/> n, in percentage points.
    /// </summary>
    public static (double Percent, double Error) Share(long part, long total, double effectiveSamples)
    {
        if (total <= 0) return (0, 0);
        double p = (double)part / total;
        return (100 * p, effectiveSamples > 0 ? 100 * Math.Sqrt(p * (1 - p) / effectiveSamples) : 0);
    }
}

/// <summary>The names sample labels refer to.</summary>
/// <param name="Domains">Domain id to name.</param>
/// <param name="Processes">Processes by (domain, pid).</param>
/// <param name="Threads">Threads by (domain, tid): their process and name.</param>
/// <param name="Comms">Thread names at sample time by id.</param>
public sealed record ProfileLabels(
    IReadOnlyDictionary<int, string> Domains,
    IReadOnlyDictionary<(int Domain, int Pid), StoredProcess> Processes,
    IReadOnlyDictionary<(int Domain, int Tid), (int Pid, string Comm)> Threads,
    IReadOnlyDictionary<CommId, string> Comms)
{
    private readonly HashSet<int> _domainsWithProcesses = Processes.Keys.Select(k => k.Domain).ToHashSet();

    /// <summary>
    /// The process name of (<paramref name="domain"/>, <paramref name="pid"/>): its comm; for pid 0 the domain's name when
    /// no process of that domain is known (a passive domain), else <c>swapper</c>; else <c>:PID</c>.
    /// </summary>
    public string ProcessName(int domain, int pid) =>
        Processes.TryGetValue((domain, pid), out var p) ? p.Comm
        : pid == 0 && domain != 0 && !_domainsWithProcesses.Contains(domain) ? DomainName(domain)
        : pid == 0 ? "swapper" : ":" + pid;

    /// <summary>The thread name of (<paramref name="domain"/>, <paramref name="tid"/>), falling back to its process's name.</summary>
    public string ThreadName(int domain, int tid, int pid) =>
        Threads.TryGetValue((domain, tid), out var t) ? t.Comm : ProcessName(domain, pid);

    /// <summary>The display name of domain <paramref name="domain"/>: its stored name, else <c>domN</c>.</summary>
    public string DomainName(int domain) => Domains.TryGetValue(domain, out var n) ? n : "dom" + domain;

    /// <summary>
    /// The name a sample's root frame gets, as stackcollapse-perf.pl takes it from perf script: the thread's comm at
    /// the sample's time when the source recorded it, else the process's name.
    /// </summary>
    public string RootName(int domain, int pid, CommId comm) =>
        comm.Value != 0 && Comms.TryGetValue(comm, out var c) ? c : ProcessName(domain, pid);
}

/// <summary>
/// A query for <see cref="ProfileBuilder.Build"/>: which samples (domain, event, process, thread, CPU, time window) and
/// how much of them to resolve. Null filters select everything.
/// </summary>
public sealed record ProfileOptions
{
    /// <summary>Only samples stored for this Xen domain (null = all); a passive domain's samples are dom0's, as opreport shows them.</summary>
    public int? Domain { get; init; }

    /// <summary>Only this event, by name (case-insensitive; null = every event).</summary>
    public string? Event { get; init; }

    /// <summary>Only this process (thread-group id).</summary>
    public int? Pid { get; init; }

    /// <summary>Only this thread.</summary>
    public int? Tid { get; init; }

    /// <summary>Only samples taken on this CPU.</summary>
    public int? Cpu { get; init; }

    /// <summary>Only samples at or after this time (ns; session clock, or after the first sample with <see cref="RelativeTimes"/>).</summary>
    public long? FromNs { get; init; }

    /// <summary>Only samples before this time (ns; as <see cref="FromNs"/>).</summary>
    public long? ToNs { get; init; }

    /// <summary><see cref="FromNs"/> and <see cref="ToNs"/> count from the session's first sample.</summary>
    public bool RelativeTimes { get; init; }

    /// <summary>Also resolve every frame of every stack (flame graphs, call graphs; costs a symbol lookup per distinct frame).</summary>
    public bool WithStacks { get; init; }

    /// <summary>Also keep every selected sample in time order (<see cref="Profile.Samples"/>: speedscope, Chrome trace, pprof, timelines).</summary>
    public bool WithSamples { get; init; }

    /// <summary>Also count samples per instruction address inside each symbol (opreport <c>-d</c>, opannotate); needs a
    /// symbolizer implementing <see cref="IFrameAddressSymbolizer"/>.</summary>
    public bool WithDetails { get; init; }

    /// <summary>
    /// What to keep apart (opcontrol <c>--separate</c> less opreport <c>--merge</c>): applications for libraries and the
    /// kernel, and columns per thread group, thread or CPU. Default <see cref="Separation.None"/>.
    /// </summary>
    public Separation Separate { get; init; }

    /// <summary>Only events with this sample period (<c>count:</c> of a <see cref="ProfileSpec"/>; null = any).</summary>
    public ulong? Count { get; init; }

    /// <summary>Only events with this unit mask (<c>unit-mask:</c> of a <see cref="ProfileSpec"/>; null = any).</summary>
    public uint? UnitMask { get; init; }

    /// <summary>Only these processes (thread-group ids; <c>tgid:</c>); null = any. Combined with <see cref="Pid"/> when both are set.</summary>
    public IReadOnlyList<int>? Tgids { get; init; }

    /// <summary>Only these threads (<c>tid:</c>); null = any.</summary>
    public IReadOnlyList<int>? Tids { get; init; }

    /// <summary>Only samples taken on these CPUs (<c>cpu:</c>); null = any.</summary>
    public IReadOnlyList<int>? Cpus { get; init; }

    /// <summary>Only samples whose leaf frame lies in an image matching one of these patterns (<c>image:</c>; globs,
    /// matched as <see cref="ProfileSpec"/> describes); empty = every image. Totals are of the kept samples.</summary>
    public IReadOnlyList<string> Images { get; init; } = [];

    /// <summary>Drop samples whose leaf frame lies in an image matching one of these patterns (<c>image-exclude:</c>).</summary>
    public IReadOnlyList<string> ImageExcludes { get; init; } = [];

    /// <summary>Only samples whose leaf symbol is named exactly one of these (opreport <c>--include-symbols</c>, oprofile's
    /// string_filter: exact names, as the report prints them); empty = every symbol. Totals are of the kept samples.</summary>
    public IReadOnlyList<string> IncludeSymbols { get; init; } = [];

    /// <summary>Drop samples whose leaf symbol is named exactly one of these (opreport <c>--exclude-symbols</c>; wins over
    /// <see cref="IncludeSymbols"/>, as in oprofile); the report's percentages are then of the remaining samples.</summary>
    public IReadOnlyList<string> ExcludeSymbols { get; init; } = [];

    /// <summary>True when a filter or a separation needs each sample rather than the store's per-stack totals.</summary>
    internal bool NeedsSamples => WithSamples || Pid != null || Tid != null || Cpu != null || FromNs != null || ToNs != null
        || Tgids != null || Tids != null || Cpus != null || (Separate & (Separation.Tid | Separation.Cpu)) != 0;
}
