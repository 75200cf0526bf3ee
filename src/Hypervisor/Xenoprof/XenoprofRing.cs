using System.Buffers.Binary;

namespace XenProf.Hypervisor.Xenoprof;

/// <summary>A <c>xenoprof_buf</c> header as read from shared memory (<c>struct xenoprof_buf</c>, xen/include/public/xenoprof.h).</summary>
public readonly record struct XenoprofBufHeader(uint Head, uint Tail, uint Size, uint VcpuId, ulong XenSamples, ulong KernelSamples, ulong UserSamples, ulong LostSamples)
{
    /// <summary>Reads the 48-byte header at the start of <paramref name="buffer"/>.</summary>
    public static XenoprofBufHeader Read(ReadOnlySpan<byte> buffer) => new(
        Volatile(buffer, XenoprofBufLayout.EventHead), Volatile(buffer, XenoprofBufLayout.EventTail),
        BinaryPrimitives.ReadUInt32LittleEndian(buffer[XenoprofBufLayout.EventSize..]), BinaryPrimitives.ReadUInt32LittleEndian(buffer[XenoprofBufLayout.VcpuId..]),
        BinaryPrimitives.ReadUInt64LittleEndian(buffer[XenoprofBufLayout.XenSamples..]), BinaryPrimitives.ReadUInt64LittleEndian(buffer[XenoprofBufLayout.KernelSamples..]),
        BinaryPrimitives.ReadUInt64LittleEndian(buffer[XenoprofBufLayout.UserSamples..]), BinaryPrimitives.ReadUInt64LittleEndian(buffer[XenoprofBufLayout.LostSamples..]));

    /// <summary>Samples Xen wrote into this buffer (all modes).</summary>
    public ulong Written => XenSamples + KernelSamples + UserSamples;

    private static uint Volatile(ReadOnlySpan<byte> b, int offset) =>
        System.Threading.Volatile.Read(ref System.Runtime.CompilerServices.Unsafe.As<byte, uint>(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(b[offset..])));
}

/// <summary>What a producer write did.</summary>
public enum RingWrite
{
    /// <summary>Entry stored, head advanced.</summary>
    Stored,
    /// <summary>No free slot: the entry was dropped (Xen never overwrites).</summary>
    Full,
    /// <summary>Head or tail outside [0, size): the buffer was not touched.</summary>
    Corrupt,
}

/// <summary>
/// Ring arithmetic of the xenoprof sample buffer (<c>xenoprof_add_sample</c> in xen/common/xenoprof.c): head and tail are read
/// once and validated against the private size (the XSA-313 lesson); free space is
/// <c>(tail &gt; head ? 0 : size) + tail − head − 1</c>, so capacity is size − 1; the producer never overwrites.
/// Both sides work on raw bytes, so they apply equally to a memory-mapped emulator page and to pages shared by Xen.
/// </summary>
public static class XenoprofRing
{
    /// <summary>Initializes a zeroed buffer header: <c>event_size</c>, <c>vcpu_id</c>, head = tail = 0.</summary>
    public static void Initialize(Span<byte> buffer, uint size, uint vcpuId)
    {
        buffer.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[XenoprofBufLayout.EventSize..], size);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[XenoprofBufLayout.VcpuId..], vcpuId);
    }

    /// <summary>Free entries for head/tail in a ring of <paramref name="size"/> (one slot is always kept empty).</summary>
    public static uint FreeSpace(uint head, uint tail, uint size) => (tail > head ? 0 : size) + tail - head - 1;

    /// <summary>Producer side: free slots now, or -1 when head/tail are corrupt.</summary>
    public static long Free(ReadOnlySpan<byte> buffer, uint privateSize)
    {
        var head = BinaryPrimitives.ReadUInt32LittleEndian(buffer[XenoprofBufLayout.EventHead..]);
        var tail = BinaryPrimitives.ReadUInt32LittleEndian(buffer[XenoprofBufLayout.EventTail..]);
        if (head >= privateSize || tail >= privateSize) return -1;
        return FreeSpace(head, tail, privateSize);
    }

    /// <summary>
    /// Producer side: appends <paramref name="entry"/> when a slot is free, using the producer's private
    /// <paramref name="privateSize"/> (never the guest-writable <c>event_size</c>). Does not touch the sample counters.
    /// </summary>
    public static RingWrite TryAdd(Span<byte> buffer, uint privateSize, EventLogEntry entry, bool compat = false)
    {
        var head = BinaryPrimitives.ReadUInt32LittleEndian(buffer[XenoprofBufLayout.EventHead..]);
        var tail = BinaryPrimitives.ReadUInt32LittleEndian(buffer[XenoprofBufLayout.EventTail..]);
        if (head >= privateSize || tail >= privateSize) return RingWrite.Corrupt;
        if (FreeSpace(head, tail, privateSize) == 0) return RingWrite.Full;
        WriteEntry(buffer, (int)head, entry, compat);
        System.Threading.Volatile.Write(ref AsU32(buffer, XenoprofBufLayout.EventHead), (head + 1) % privateSize);
        return RingWrite.Stored;
    }

    /// <summary>Adds <paramref name="delta"/> to the u64 counter at <paramref name="offset"/> (one of the <see cref="XenoprofBufLayout"/> sample counters).</summary>
    public static void AddCounter(Span<byte> buffer, int offset, ulong delta) =>
        BinaryPrimitives.WriteUInt64LittleEndian(buffer[offset..], BinaryPrimitives.ReadUInt64LittleEndian(buffer[offset..]) + delta);

    /// <summary>Writes entry <paramref name="index"/> of the event log.</summary>
    public static void WriteEntry(Span<byte> buffer, int index, EventLogEntry e, bool compat = false)
    {
        var at = buffer.Slice(XenoprofBufLayout.EventLog + index * EventLogLayout.Size(compat), EventLogLayout.Size(compat));
        at.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(at, e.Eip);
        at[EventLogLayout.Mode] = (byte)e.Mode;
        at[EventLogLayout.Event] = e.Event;
    }

    /// <summary>Reads entry <paramref name="index"/> of the event log.</summary>
    public static EventLogEntry ReadEntry(ReadOnlySpan<byte> buffer, int index, bool compat = false)
    {
        var at = buffer.Slice(XenoprofBufLayout.EventLog + index * EventLogLayout.Size(compat), EventLogLayout.Size(compat));
        return new EventLogEntry(BinaryPrimitives.ReadUInt64LittleEndian(at), (XenoprofMode)at[EventLogLayout.Mode], at[EventLogLayout.Event]);
    }

    /// <summary>Entries a buffer of <paramref name="length"/> bytes can hold.</summary>
    public static int Capacity(int length, bool compat = false) => (length - XenoprofBufLayout.HeaderSize) / EventLogLayout.Size(compat);

    /// <summary>
    /// Consumer side: reads every entry from tail to head (wrapping at <c>event_size</c>) into <paramref name="into"/>, then
    /// publishes tail = head. Head, tail and size are read once and validated first: a size of 0 or larger than the
    /// bytes allow, head/tail outside [0, size), or a buffer shorter than its 48-byte header make it corrupt; it is then left untouched and
    /// <see cref="DrainResult.Corrupt"/> is set instead of trusting it.
    /// </summary>
    public static DrainResult Drain(Span<byte> buffer, List<EventLogEntry> into, bool compat = false)
    {
        // A mapping shorter than the header has no ring to trust (a page the hypervisor did not share whole).
        if (buffer.Length < XenoprofBufLayout.HeaderSize) return new DrainResult(0, true);
        var h = XenoprofBufHeader.Read(buffer);
        uint cap = (uint)Capacity(buffer.Length, compat);
        if (h.Size == 0 || h.Size > cap || h.Head >= h.Size || h.Tail >= h.Size) return new DrainResult(0, true);
        int n = 0;
        for (uint t = h.Tail; t != h.Head; t = (t + 1) % h.Size, n++)
            into.Add(ReadEntry(buffer, (int)t, compat));
        System.Threading.Volatile.Write(ref AsU32(buffer, XenoprofBufLayout.EventTail), h.Head);
        return new DrainResult(n, false);
    }

    private static ref uint AsU32(Span<byte> b, int offset) =>
        ref System.Runtime.CompilerServices.Unsafe.As<byte, uint>(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(b[offset..]));
}

/// <summary>Outcome of <see cref="XenoprofRing.Drain"/>: entries read, or a corrupt header (nothing read).</summary>
public readonly record struct DrainResult(int Entries, bool Corrupt);
