using System.Numerics;
using XenProf.Hypervisor.Binary;

namespace XenProf.Hypervisor.PerfEvents.Records;

/// <summary>
/// PERF_RECORD_SAMPLE (type 9), decoded. Fields follow the kernel output order of <c>perf_output_sample</c>
/// (<c>perf_output_sample</c> in kernel/events/core.c; PERF_RECORD_SAMPLE in include/uapi/linux/perf_event.h): IDENTIFIER, IP, TID, TIME, ADDR, ID, STREAM_ID, CPU, PERIOD, READ,
/// CALLCHAIN, RAW, BRANCH_STACK, REGS_USER, STACK_USER, WEIGHT, DATA_SRC, TRANSACTION, REGS_INTR, PHYS_ADDR,
/// CGROUP, DATA_PAGE_SIZE, CODE_PAGE_SIZE, AUX. Fields not kept here are skipped by their size. A field whose
/// bit is not in <see cref="Fields"/> reads as 0 (or an empty callchain).
/// </summary>
public readonly struct SampleRecord
{
    /// <summary>Creates a sample value (used by the decoder and by tests).</summary>
    public SampleRecord(SampleFormat fields, ushort misc, ulong id, ulong ip, uint pid, uint tid, ulong time,
        ulong addr, ulong streamId, uint cpu, ulong period, ulong[] callchain, ulong[]? readValues = null, ulong[]? readIds = null)
    {
        Fields = fields; Misc = misc; Id = id; Ip = ip; Pid = pid; Tid = tid; Time = time; Addr = addr;
        StreamId = streamId; Cpu = cpu; Period = period; Callchain = callchain;
        ReadValues = readValues ?? Array.Empty<ulong>(); ReadIds = readIds ?? Array.Empty<ulong>();
    }

    /// <summary>
    /// PERF_SAMPLE_READ counter values: one, or one per group member with PERF_FORMAT_GROUP (<c>enum perf_event_read_format</c>, include/uapi/linux/perf_event.h).
    /// Empty when READ is not sampled. perf report turns these into per-event samples (<c>:S</c> groups).
    /// </summary>
    public ulong[] ReadValues { get; }
    /// <summary>Event id of each <see cref="ReadValues"/> entry when read_format has PERF_FORMAT_ID; else empty.</summary>
    public ulong[] ReadIds { get; }

    /// <summary>This sample with <paramref name="callchain"/> (leaf-first, with context markers) as its callchain.</summary>
    public SampleRecord WithCallchain(ulong[] callchain) =>
        new(Fields, Misc, Id, Ip, Pid, Tid, Time, Addr, StreamId, Cpu, Period, callchain, ReadValues, ReadIds);

    /// <summary>This sample as counted for another event: same fields, <paramref name="id"/> and <paramref name="period"/> replaced.</summary>
    public SampleRecord WithEvent(ulong id, ulong period) =>
        new(Fields, Misc, id, Ip, Pid, Tid, Time, Addr, StreamId, Cpu, period, Callchain, ReadValues, ReadIds);

    /// <summary>attr.sample_type of the event that produced the sample: which fields are valid.</summary>
    public SampleFormat Fields { get; }
    /// <summary>perf_event_header.misc.</summary>
    public ushort Misc { get; }
    /// <summary>CPU mode at the sampled IP (misc &amp; 7).</summary>
    public CpuMode CpuMode => PerfRecordMisc.ModeOf(Misc);
    /// <summary>True if misc has PERF_RECORD_MISC_EXACT_IP.</summary>
    public bool IsExactIp => (Misc & PerfRecordMisc.ExactIp) != 0;
    /// <summary>Event id (IDENTIFIER or ID), as returned by PERF_EVENT_IOC_ID.</summary>
    public ulong Id { get; }
    /// <summary>Sampled instruction pointer (IP).</summary>
    public ulong Ip { get; }
    /// <summary>Process id (TID). The kernel reports -1 (0xffffffff) for some kernel threads' contexts; 0 is the idle task.</summary>
    public uint Pid { get; }
    /// <summary>Thread id (TID).</summary>
    public uint Tid { get; }
    /// <summary>Time in ns of the perf clock (TIME).</summary>
    public ulong Time { get; }
    /// <summary>Data address (ADDR).</summary>
    public ulong Addr { get; }
    /// <summary>Stream id (STREAM_ID).</summary>
    public ulong StreamId { get; }
    /// <summary>CPU number (CPU).</summary>
    public uint Cpu { get; }
    /// <summary>Event count this sample stands for (PERIOD), in the event's unit (ns for CPU_CLOCK).</summary>
    public ulong Period { get; }
    /// <summary>
    /// Callchain entries leaf-first, including context markers (values ≥ <see cref="PerfContext.Max"/>; split
    /// with <see cref="PerfContext.Split"/>). Empty when CALLCHAIN is not sampled.
    /// </summary>
    public ulong[] Callchain { get; }

    /// <summary>
    /// Decodes a SAMPLE record with the layout of the event that produced it.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="raw"/> is not a SAMPLE.</exception>
    /// <exception cref="MalformedDataException">A field runs past the declared size, a count (callchain nr, RAW size…) is impossible, or bytes are left over after the last field.</exception>
    public static SampleRecord Decode(in RawRecord raw, SampleLayout layout) => Decode(raw, layout, copyCallchain: true, out _, out _);

    /// <summary>
    /// Decodes a SAMPLE record as <see cref="Decode(in RawRecord, SampleLayout)"/> does (same checks), but without
    /// copying the callchain: <see cref="Callchain"/> is left empty and <paramref name="callchain"/> views the entries in
    /// <paramref name="raw"/>'s bytes, valid only as long as they are (the import and ring hot path: no array per sample).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="raw"/> is not a SAMPLE.</exception>
    /// <exception cref="MalformedDataException">As <see cref="Decode(in RawRecord, SampleLayout)"/>.</exception>
    public static SampleRecord Decode(in RawRecord raw, SampleLayout layout, out ReadOnlySpan<ulong> callchain)
    {
        var s = Decode(raw, layout, copyCallchain: false, out int at, out int count);
        callchain = count == 0 ? default : System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(raw.Body.Slice(at, count * 8));
        return s;
    }

    // perf.data and rings are little-endian here (big-endian files are refused), so the entries are read in place.
    private static SampleRecord Decode(in RawRecord raw, SampleLayout layout, bool copyCallchain, out int chainAt, out int chainCount)
    {
        chainAt = 0;
        chainCount = 0;
        if (raw.Type != PerfRecordType.Sample) throw new ArgumentException($"expected PERF_RECORD_SAMPLE, got {PerfRecordNames.Of(raw.Type)}", nameof(raw));
        var t = layout.SampleType;
        var c = raw.BodyCursor("PERF_RECORD_SAMPLE");
        ulong id = 0, ip = 0, time = 0, addr = 0, stream = 0, period = 0;
        uint pid = 0, tid = 0, cpu = 0;
        ulong[] chain = Array.Empty<ulong>();
        ulong[]? readValues = null, readIds = null;

        if (Has(t, SampleFormat.Identifier)) id = c.ReadUInt64();
        if (Has(t, SampleFormat.Ip)) ip = c.ReadUInt64();
        if (Has(t, SampleFormat.Tid)) { pid = c.ReadUInt32(); tid = c.ReadUInt32(); }
        if (Has(t, SampleFormat.Time)) time = c.ReadUInt64();
        if (Has(t, SampleFormat.Addr)) addr = c.ReadUInt64();
        if (Has(t, SampleFormat.Id)) id = c.ReadUInt64();
        if (Has(t, SampleFormat.StreamId)) stream = c.ReadUInt64();
        if (Has(t, SampleFormat.Cpu)) { cpu = c.ReadUInt32(); c.ReadUInt32(); }
        if (Has(t, SampleFormat.Period)) period = c.ReadUInt64();
        if (Has(t, SampleFormat.Read))
        {
            c.Structure = "PERF_RECORD_SAMPLE.read";
            // { u64 value; [time_enabled]; [time_running]; [id]; [lost] } or, with GROUP,
            // { u64 nr; [time_enabled]; [time_running]; { u64 value; [id]; [lost] } cntr[nr] } (perf_event_open(2), read_format).
            var rf = layout.ReadFormat;
            bool hasId = (rf & ReadFormat.Id) != 0, hasLost = (rf & ReadFormat.Lost) != 0;
            int times = ((rf & ReadFormat.TotalTimeEnabled) != 0 ? 1 : 0) + ((rf & ReadFormat.TotalTimeRunning) != 0 ? 1 : 0);
            if ((rf & ReadFormat.Group) == 0)
            {
                readValues = [c.ReadUInt64()];
                c.Skip(8 * times);
                if (hasId) readIds = [c.ReadUInt64()];
                if (hasLost) c.ReadUInt64();
            }
            else
            {
                long at = c.Offset;
                ulong nr = c.ReadUInt64();
                c.Skip(8 * times);
                CheckedCount(nr, (ulong)layout.ReadValueSize, c.Remaining, raw.Path, at, "PERF_RECORD_SAMPLE.read", "group nr");
                readValues = new ulong[(int)nr];
                readIds = hasId ? new ulong[(int)nr] : null;
                for (int i = 0; i < readValues.Length; i++)
                {
                    readValues[i] = c.ReadUInt64();
                    if (hasId) readIds![i] = c.ReadUInt64();
                    if (hasLost) c.ReadUInt64();
                }
            }
        }
        if (Has(t, SampleFormat.Callchain))
        {
            c.Structure = "PERF_RECORD_SAMPLE.callchain";
            long at = c.Offset;
            ulong nr = c.ReadUInt64();
            int bytes = CheckedCount(nr, 8, c.Remaining, raw.Path, at, c.Structure, "nr");
            if (copyCallchain)
            {
                chain = new ulong[(int)nr];
                for (int i = 0; i < chain.Length; i++) chain[i] = c.ReadUInt64();
            }
            else
            {
                chainAt = c.Position;
                chainCount = (int)nr;
                c.Skip(bytes);
            }
        }
        if (Has(t, SampleFormat.Raw))
        {
            c.Structure = "PERF_RECORD_SAMPLE.raw";
            long at = c.Offset;
            uint size = c.ReadUInt32();
            c.Skip(CheckedCount(size, 1, c.Remaining, raw.Path, at, c.Structure, "size"));
        }
        if (Has(t, SampleFormat.BranchStack))
        {
            c.Structure = "PERF_RECORD_SAMPLE.branch_stack";
            long at = c.Offset;
            ulong nr = c.ReadUInt64();
            if (layout.BranchHasHwIndex) c.ReadUInt64();
            ulong per = 24 + (layout.BranchHasCounters ? 8UL : 0UL);
            c.Skip(CheckedCount(nr, per, c.Remaining, raw.Path, at, c.Structure, "nr"));
        }
        if (Has(t, SampleFormat.RegsUser)) SkipRegs(ref c, layout.RegsUserCount, "PERF_RECORD_SAMPLE.regs_user");
        if (Has(t, SampleFormat.StackUser))
        {
            c.Structure = "PERF_RECORD_SAMPLE.stack_user";
            long at = c.Offset;
            ulong size = c.ReadUInt64();
            if (size != 0)
            {
                c.Skip(CheckedCount(size, 1, c.Remaining, raw.Path, at, c.Structure, "size"));
                c.ReadUInt64(); // dyn_size
            }
        }
        c.Structure = "PERF_RECORD_SAMPLE";
        if (Has(t, SampleFormat.Weight) || Has(t, SampleFormat.WeightStruct)) c.ReadUInt64();
        if (Has(t, SampleFormat.DataSrc)) c.ReadUInt64();
        if (Has(t, SampleFormat.Transaction)) c.ReadUInt64();
        if (Has(t, SampleFormat.RegsIntr)) SkipRegs(ref c, layout.RegsIntrCount, "PERF_RECORD_SAMPLE.regs_intr");
        c.Structure = "PERF_RECORD_SAMPLE";
        if (Has(t, SampleFormat.PhysAddr)) c.ReadUInt64();
        if (Has(t, SampleFormat.Cgroup)) c.ReadUInt64();
        if (Has(t, SampleFormat.DataPageSize)) c.ReadUInt64();
        if (Has(t, SampleFormat.CodePageSize)) c.ReadUInt64();
        if (Has(t, SampleFormat.Aux))
        {
            c.Structure = "PERF_RECORD_SAMPLE.aux";
            long at = c.Offset;
            ulong size = c.ReadUInt64();
            c.Skip(CheckedCount(size, 1, c.Remaining, raw.Path, at, c.Structure, "size"));
        }
        if (c.Remaining != 0)
            throw new Binary.MalformedDataException(raw.Path, c.Offset, "PERF_RECORD_SAMPLE",
                $"{c.Remaining} bytes left after the last sample_type field (declared size {raw.Size}); the record does not match sample_type 0x{(ulong)t:x}");
        return new SampleRecord(t, raw.Misc, id, ip, pid, tid, time, addr, stream, cpu, period, chain, readValues, readIds);
    }

    private static bool Has(SampleFormat t, SampleFormat bit) => (t & bit) != 0;

    private static void SkipRegs(ref SpanCursor c, int count, string structure)
    {
        c.Structure = structure;
        ulong abi = c.ReadUInt64();
        if (abi != 0) c.Skip(8 * count);
    }

    /// <summary>Returns count × unit as an int if it fits in <paramref name="remaining"/>, else throws.</summary>
    private static int CheckedCount(ulong count, ulong unit, int remaining, string path, long at, string structure, string what)
    {
        if (count > (ulong)remaining / unit)
            throw new MalformedDataException(path, at, structure,
                $"{what} {count} needs {(count > (ulong)int.MaxValue ? "more" : (count * unit).ToString())} bytes but only {remaining} remain in the record");
        return (int)(count * unit);
    }
}
