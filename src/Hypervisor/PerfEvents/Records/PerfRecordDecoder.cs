namespace XenProf.Hypervisor.PerfEvents.Records;

/// <summary>
/// Step two of decoding, for a stream of records that share one <see cref="SampleLayout"/>: decodes each raw
/// record into its typed form and delivers it to an <see cref="IPerfRecordSink"/>, mapping sample ids to event
/// indexes and counting. Works on any source (live ring, perf.data); it does not assume live input.
/// </summary>
public sealed class PerfRecordDecoder
{
    private readonly IReadOnlyDictionary<ulong, int>? _eventIndexById;

    /// <summary>Creates a decoder.</summary>
    /// <param name="layout">Layout of every record this decoder will see.</param>
    /// <param name="eventIndexById">Event id (PERF_EVENT_IOC_ID / perf.data attr ids) → event index; null means every sample is event 0.</param>
    public PerfRecordDecoder(SampleLayout layout, IReadOnlyDictionary<ulong, int>? eventIndexById = null)
    {
        Layout = layout;
        _eventIndexById = eventIndexById;
    }

    /// <summary>The layout used.</summary>
    public SampleLayout Layout { get; }
    /// <summary>Counts of what was delivered.</summary>
    public PerfRecordCounts Counts { get; } = new();

    /// <summary>
    /// Decodes <paramref name="raw"/> and calls the matching sink method. Types without a typed decoder go to
    /// <see cref="IPerfRecordSink.OnUnknown"/> and are counted, never rejected.
    /// </summary>
    /// <exception cref="Binary.MalformedDataException">The record's size or contents are malformed.</exception>
    public void Deliver(in RawRecord raw, IPerfRecordSink sink)
    {
        Counts.Add(raw.Type);
        switch (raw.Type)
        {
            case PerfRecordType.Sample:
                var s = SampleRecord.Decode(raw, Layout, out var chain);
                int index = EventIndexOf(s.Id);
                if (index < 0) Counts.AddUnattributed();
                sink.OnSample(index, s, chain);
                break;
            case PerfRecordType.Mmap: sink.OnMmap(MmapRecord.Decode(raw, Layout)); break;
            case PerfRecordType.Mmap2: sink.OnMmap2(Mmap2Record.Decode(raw, Layout)); break;
            case PerfRecordType.Comm: sink.OnComm(CommRecord.Decode(raw, Layout)); break;
            case PerfRecordType.Fork: sink.OnFork(ForkRecord.Decode(raw, Layout)); break;
            case PerfRecordType.Exit: sink.OnExit(ExitRecord.Decode(raw, Layout)); break;
            case PerfRecordType.Lost:
                var l = LostRecord.Decode(raw, Layout);
                Counts.AddLost(l.Lost);
                sink.OnLost(l);
                break;
            case PerfRecordType.LostSamples:
                var ls = LostSamplesRecord.Decode(raw, Layout);
                Counts.AddLost(ls.Lost);
                sink.OnLostSamples(ls);
                break;
            case PerfRecordType.Throttle:
            case PerfRecordType.Unthrottle:
                sink.OnThrottle(ThrottleRecord.Decode(raw, Layout)); break;
            default:
                Counts.AddUnknown();
                sink.OnUnknown(raw);
                break;
        }
    }

    /// <summary>Event index for <paramref name="id"/>; 0 if no map was given; -1 if the id is not in the map.</summary>
    public int EventIndexOf(ulong id) =>
        _eventIndexById is null ? 0 : _eventIndexById.TryGetValue(id, out int i) ? i : -1;
}
