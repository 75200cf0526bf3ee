using System.Text;
using XenProf.Sampler.Attribution;
using XenProf.Sampler.Store;

namespace XenProf.Sampler.Import.PerfScript;

/// <summary>
/// Writes <c>perf script</c> text into a session store, through Attribution (<see cref="Attributor"/>) like every
/// source: each sample is a <see cref="RawSample"/> whose frames carry perf's names (<see cref="NamedFrame"/>), stored as
/// <c>frame_names</c>: one image per dso, the frame at its IP; <c>[unknown]</c> symbols are stored as "no name" so reports do not look a
/// runtime address up as a file offset. Each distinct event name becomes an event; each sample counts 1, as
/// opreport counts samples (the period of an event's first sample is noted in its description and count).
/// A sample with no frame at all is kept on an <c>[unknown]</c> frame so totals match the input.
/// </summary>
internal sealed class PerfScriptImporter(SessionStore store)
{
    private readonly Dictionary<string, EventId> _events = new(StringComparer.Ordinal);
    private readonly Attributor _attributor = new(store, new KernelLayout([]));
    private readonly Dictionary<(int, int), string> _threads = [];
    private readonly List<ulong> _ips = [];
    private readonly List<NamedFrame> _names = [];

    /// <summary>Samples written.</summary>
    public long Samples { get; private set; }

    /// <summary>Event names in order of first appearance.</summary>
    public IReadOnlyList<string> EventNames => _events.Keys.ToList();

    /// <summary>Reads all of <paramref name="input"/> (Latin-1, so every byte round-trips) with <paramref name="reader"/>
    /// (default: a lenient one) and returns it, for its counts.</summary>
    /// <exception cref="Hypervisor.Binary.MalformedDataException">A strict reader met a line that does not parse.</exception>
    public PerfScriptReader Import(Stream input, IProgress<double>? progress, CancellationToken ct, PerfScriptReader? reader = null)
    {
        reader ??= new PerfScriptReader();
        using var text = new StreamReader(input, Encoding.Latin1, detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16, leaveOpen: true);
        long length = input.CanSeek ? input.Length : 0, lastReport = 0;
        foreach (var s in reader.Read(text))
        {
            Add(s);
            if ((Samples & 0xfff) == 0)
            {
                ct.ThrowIfCancellationRequested();
                if (progress != null && length > 0 && input.Position - lastReport > length / 100)
                {
                    lastReport = input.Position;
                    progress.Report((double)input.Position / length);
                }
                if ((Samples & 0xffff) == 0) store.Commit();
            }
        }
        return reader;
    }

    private void Add(PerfScriptSample s)
    {
        var evName = s.Event ?? "sample";
        if (!_events.TryGetValue(evName, out var ev))
        {
            var e = store.AddEvent(new StoredEvent(evName, 0, 0, (ulong)(s.Period ?? 0), 0, true, true, "samples",
                "perf script event" + (s.Period is { } p ? $", period {p} on its first sample" : "")));
            _events[evName] = ev = e.Id;
        }
        int pid = s.Pid ?? s.Tid; // default fields show only the thread: each thread stands for its process
        if (!_threads.TryGetValue((pid, s.Tid), out var comm) || comm != s.Comm)
        {
            // Names change on exec; the store keeps the latest. A process is named by its leader's comm, and until
            // the leader shows up, by the thread seen.
            _threads[(pid, s.Tid)] = s.Comm;
            if (pid == s.Tid || !_threads.ContainsKey((pid, pid))) store.SetProcess(0, pid, 0, s.Comm);
            store.SetThread(0, s.Tid, pid, s.Comm);
        }
        _ips.Clear();
        _names.Clear();
        foreach (var f in s.Frames) // leaf first, as perf script prints them
        {
            _ips.Add(f.Ip);
            _names.Add(new NamedFrame(f.Dso, KindOf(f.Dso), f.Symbol));
        }
        if (_names.Count == 0) { _ips.Add(0); _names.Add(new NamedFrame("[unknown]", ImageKind.Unknown, null)); }
        var mode = _names[0].Kind is ImageKind.Kernel or ImageKind.KernelModule ? SampleMode.Kernel : SampleMode.User;
        ulong period = s.Period is > 0 and var p2 ? (ulong)p2 : 0;
        _attributor.Sample(new RawSample(0, mode, pid, s.Tid, s.Cpu ?? 0, s.TimeNs ?? 0, _ips[0],
            System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_ips), ev)
        {
            Names = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_names),
            Period = period,
            Comm = s.Comm,
        });
        Samples++;
    }

    /// <summary>What perf's dso name says the image is.</summary>
    internal static ImageKind KindOf(string dso) => dso switch
    {
        "[unknown]" => ImageKind.Unknown,
        "[kernel.kallsyms]" or "[guest.kernel.kallsyms]" => ImageKind.Kernel,
        "[vdso]" or "[vsyscall]" => ImageKind.Vdso,
        "[heap]" or "[stack]" or "[anon]" or "[jit]" => ImageKind.Anonymous,
        _ when dso.StartsWith("/tmp/perf-", StringComparison.Ordinal) && dso.EndsWith(".map", StringComparison.Ordinal) => ImageKind.Anonymous,
        _ when dso.StartsWith("/memfd:", StringComparison.Ordinal) || dso.StartsWith("//anon", StringComparison.Ordinal) => ImageKind.Anonymous,
        _ when dso.EndsWith("vmlinux", StringComparison.Ordinal) => ImageKind.Kernel,
        _ when dso.EndsWith(".ko", StringComparison.Ordinal) => ImageKind.KernelModule,
        _ when dso.StartsWith('[') => ImageKind.KernelModule,
        _ when dso.StartsWith('/') || dso.StartsWith("./", StringComparison.Ordinal) => ImageKind.Elf,
        _ => ImageKind.Anonymous,
    };
}
