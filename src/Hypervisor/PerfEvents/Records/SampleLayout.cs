using System.Buffers.Binary;
using System.Numerics;

namespace XenProf.Hypervisor.PerfEvents.Records;

/// <summary>
/// Where things sit in SAMPLE records and in the <c>sample_id</c> trailer of other records, worked out once
/// from the attr fields that shape them (<c>enum perf_event_sample_format</c>, <c>perf_event_read_format</c>, <c>perf_branch_sample_type</c>, PERF_RECORD_SAMPLE and <c>struct sample_id</c> in include/uapi/linux/perf_event.h; field order as <c>perf_output_sample</c> in kernel/events/core.c writes it).
/// <code>
/// struct sample_id {                      // appended when sample_id_all = 1
///     { u32 pid, tid; }   &amp;&amp; PERF_SAMPLE_TID
///     { u64 time;     }   &amp;&amp; PERF_SAMPLE_TIME
///     { u64 id;       }   &amp;&amp; PERF_SAMPLE_ID
///     { u64 stream_id;}   &amp;&amp; PERF_SAMPLE_STREAM_ID
///     { u32 cpu, res; }   &amp;&amp; PERF_SAMPLE_CPU
///     { u64 id;       }   &amp;&amp; PERF_SAMPLE_IDENTIFIER
/// };
/// </code>
/// Immutable and thread-safe.
/// </summary>
public sealed class SampleLayout
{
    /// <summary>The sample_type bits that also appear in the trailer.</summary>
    public const SampleFormat TrailerFields = SampleFormat.Tid | SampleFormat.Time | SampleFormat.Id |
        SampleFormat.StreamId | SampleFormat.Cpu | SampleFormat.Identifier;

    /// <summary>Computes the layout.</summary>
    /// <param name="sampleType">attr.sample_type.</param>
    /// <param name="readFormat">attr.read_format (shapes PERF_SAMPLE_READ).</param>
    /// <param name="sampleIdAll">attr.sample_id_all (flag bit 18): non-SAMPLE records carry the trailer.</param>
    /// <param name="branchSampleType">attr.branch_sample_type (HW_INDEX and COUNTERS change the branch stack).</param>
    /// <param name="sampleRegsUser">attr.sample_regs_user (popcount = registers per REGS_USER).</param>
    /// <param name="sampleRegsIntr">attr.sample_regs_intr (popcount = registers per REGS_INTR).</param>
    public SampleLayout(SampleFormat sampleType, ReadFormat readFormat = ReadFormat.None, bool sampleIdAll = false,
        ulong branchSampleType = 0, ulong sampleRegsUser = 0, ulong sampleRegsIntr = 0)
    {
        SampleType = sampleType;
        ReadFormat = readFormat;
        SampleIdAll = sampleIdAll;
        BranchSampleType = branchSampleType;
        RegsUserCount = BitOperations.PopCount(sampleRegsUser);
        RegsIntrCount = BitOperations.PopCount(sampleRegsIntr);
        TrailerSize = sampleIdAll ? 8 * BitOperations.PopCount((ulong)(sampleType & TrailerFields)) : 0;

        // SAMPLE: IDENTIFIER is the first u64 of the body; otherwise ID sits after IP, TID, TIME, ADDR (PERF_RECORD_SAMPLE in include/uapi/linux/perf_event.h).
        if ((sampleType & SampleFormat.Identifier) != 0) SampleIdOffset = 0;
        else if ((sampleType & SampleFormat.Id) != 0)
            SampleIdOffset = 8 * Count(sampleType, SampleFormat.Ip | SampleFormat.Tid | SampleFormat.Time | SampleFormat.Addr);
        else SampleIdOffset = -1;

        // Trailer: IDENTIFIER is the last u64; otherwise ID is followed by STREAM_ID and CPU.
        if (TrailerSize == 0) TrailerIdFromEnd = -1;
        else if ((sampleType & SampleFormat.Identifier) != 0) TrailerIdFromEnd = 8;
        else if ((sampleType & SampleFormat.Id) != 0)
            TrailerIdFromEnd = 8 * (1 + Count(sampleType, SampleFormat.Cpu | SampleFormat.StreamId));
        else TrailerIdFromEnd = -1;

        if ((sampleType & SampleFormat.Time) != 0)
        {
            SampleTimeOffset = 8 * Count(sampleType, SampleFormat.Identifier | SampleFormat.Ip | SampleFormat.Tid);
            TrailerTimeFromEnd = TrailerSize == 0 ? -1 : 8 * Count(sampleType,
                SampleFormat.Time | SampleFormat.Id | SampleFormat.StreamId | SampleFormat.Cpu | SampleFormat.Identifier);
        }
        else { SampleTimeOffset = -1; TrailerTimeFromEnd = -1; }

        // read_format block (perf_event_open(2), read_format): without GROUP a fixed number of u64s; with GROUP nr-dependent.
        int perValue = 1 + Count((ulong)readFormat, (ulong)(ReadFormat.Id | ReadFormat.Lost));
        ReadGroupHeaderSize = 8 * (1 + Count((ulong)readFormat, (ulong)(ReadFormat.TotalTimeEnabled | ReadFormat.TotalTimeRunning)));
        ReadValueSize = 8 * perValue;
        ReadBlockSize = (readFormat & ReadFormat.Group) != 0 ? -1
            : 8 * (perValue + Count((ulong)readFormat, (ulong)(ReadFormat.TotalTimeEnabled | ReadFormat.TotalTimeRunning)));
    }

    /// <summary>Builds the layout that <paramref name="attr"/> produces.</summary>
    public static SampleLayout From(in PerfEventAttr attr) =>
        new((SampleFormat)attr.SampleType, (ReadFormat)attr.ReadFormat, attr.HasFlag(PerfEventAttrFlags.SampleIdAll),
            attr.BranchSampleType, attr.SampleRegsUser, attr.SampleRegsIntr);

    /// <summary>attr.sample_type.</summary>
    public SampleFormat SampleType { get; }
    /// <summary>attr.read_format.</summary>
    public ReadFormat ReadFormat { get; }
    /// <summary>attr.sample_id_all.</summary>
    public bool SampleIdAll { get; }
    /// <summary>attr.branch_sample_type.</summary>
    public ulong BranchSampleType { get; }
    /// <summary>Registers per REGS_USER block when abi ≠ 0.</summary>
    public int RegsUserCount { get; }
    /// <summary>Registers per REGS_INTR block when abi ≠ 0.</summary>
    public int RegsIntrCount { get; }
    /// <summary>Size in bytes of the sample_id trailer on non-SAMPLE kernel records (0 if none).</summary>
    public int TrailerSize { get; }
    /// <summary>Byte offset of the event id in a SAMPLE body (after the header), or -1 if samples carry no id.</summary>
    public int SampleIdOffset { get; }
    /// <summary>Distance in bytes from the record end back to the id in the trailer, or -1 if the trailer has no id.</summary>
    public int TrailerIdFromEnd { get; }
    /// <summary>Byte offset of the time in a SAMPLE body, or -1.</summary>
    public int SampleTimeOffset { get; }
    /// <summary>Distance in bytes from the record end back to the time in the trailer, or -1.</summary>
    public int TrailerTimeFromEnd { get; }
    /// <summary>Size in bytes of a PERF_SAMPLE_READ block without GROUP; -1 when GROUP makes it depend on nr.</summary>
    public int ReadBlockSize { get; }
    /// <summary>With GROUP: bytes of nr + time fields before the values.</summary>
    public int ReadGroupHeaderSize { get; }
    /// <summary>With GROUP: bytes per value entry (value, [id], [lost]).</summary>
    public int ReadValueSize { get; }

    /// <summary>True if BRANCH_STACK carries a u64 hw_idx after nr.</summary>
    public bool BranchHasHwIndex => (BranchSampleType & Records.BranchSampleType.HwIndex) != 0;
    /// <summary>True if BRANCH_STACK carries u64 counters[nr] after the entries.</summary>
    public bool BranchHasCounters => (BranchSampleType & Records.BranchSampleType.Counters) != 0;

    /// <summary>
    /// Finds the event id without a full decode: the SAMPLE id position, or the trailer id of other kernel
    /// records. False when the layout has no id, the record is a perf-tool record, or the record is too short.
    /// </summary>
    public bool TryGetId(in RawRecord raw, out ulong id)
    {
        id = 0;
        if (raw.Type == PerfRecordType.Sample)
        {
            if (SampleIdOffset < 0 || raw.Body.Length < SampleIdOffset + 8) return false;
            id = BinaryPrimitives.ReadUInt64LittleEndian(raw.Body.Slice(SampleIdOffset));
            return true;
        }
        if (TrailerIdFromEnd < 0 || (uint)raw.Type >= 64 || raw.Size < PerfEventHeader.Size + TrailerSize) return false;
        id = BinaryPrimitives.ReadUInt64LittleEndian(raw.Bytes.Slice(raw.Size - TrailerIdFromEnd));
        return true;
    }

    /// <summary>Finds the timestamp (ns) without a full decode, for ordering; false if the record carries none.</summary>
    public bool TryGetTime(in RawRecord raw, out ulong time)
    {
        time = 0;
        if (raw.Type == PerfRecordType.Sample)
        {
            if (SampleTimeOffset < 0 || raw.Body.Length < SampleTimeOffset + 8) return false;
            time = BinaryPrimitives.ReadUInt64LittleEndian(raw.Body.Slice(SampleTimeOffset));
            return true;
        }
        if (TrailerTimeFromEnd < 0 || (uint)raw.Type >= 64 || raw.Size < PerfEventHeader.Size + TrailerSize) return false;
        time = BinaryPrimitives.ReadUInt64LittleEndian(raw.Bytes.Slice(raw.Size - TrailerTimeFromEnd));
        return true;
    }

    private static int Count(SampleFormat t, SampleFormat mask) => BitOperations.PopCount((ulong)(t & mask));
    private static int Count(ulong t, ulong mask) => BitOperations.PopCount(t & mask);
}
