using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using XenProf.Hypervisor.Xenoprof.Internal;

namespace XenProf.Hypervisor.Xenoprof;

/// <summary>
/// xenoprof_op on a real Xen dom0 through <c>/dev/xen/privcmd</c>: each call is an <c>IOCTL_PRIVCMD_HYPERCALL</c> with
/// <c>struct privcmd_hypercall { u64 op; u64 arg[5]; }</c> = { 31, sub-op, pointer to the argument bytes }
/// (Linux <c>include/uapi/xen/privcmd.h</c>; hypercall number per xen/include/public/xen.h). The ioctl returns the
/// hypervisor's value, or −1 with errno = −(Xen's value), which <see cref="Op"/> turns back into Xen's negated errno.
/// The buffers get_buffer hands out are mapped with <c>IOCTL_PRIVCMD_MMAPBATCH_V2</c> (see <see cref="MapBuffers"/>).
/// Every call can be logged, one line each (<see cref="Log"/>). Xen dropped xenoprof after 4.21, so only Xen ≤ 4.21
/// built with <c>CONFIG_XENOPROF</c> answers; the dom0 must be PV (Xen hands out machine addresses, per
/// xen/common/xenoprof.c, and only warns for translated callers).
/// </summary>
public sealed class PrivcmdHypercalls : IXenoprofHypercalls
{
    /// <summary>Default device path.</summary>
    public const string DevicePath = "/dev/xen/privcmd";

    /// <summary><c>IOCTL_PRIVCMD_HYPERCALL</c> = <c>_IOC(_IOC_NONE, 'P', 0, sizeof(struct privcmd_hypercall))</c> = 0x305000.</summary>
    public const uint IoctlHypercall = (0u << 30) | (PrivcmdHypercallSize << 16) | ('P' << 8) | 0;

    /// <summary><c>sizeof(struct privcmd_hypercall)</c>: op + five arguments, u64 each.</summary>
    public const int PrivcmdHypercallSize = 48;

    /// <summary><c>IOCTL_PRIVCMD_MMAPBATCH_V2</c> = <c>_IOC(_IOC_NONE, 'P', 4, sizeof(struct privcmd_mmapbatch_v2))</c> = 0x205004 (Linux include/uapi/xen/privcmd.h).</summary>
    public const uint IoctlMmapBatchV2 = (0u << 30) | (MmapBatchV2Size << 16) | ('P' << 8) | 4;

    /// <summary>
    /// <c>sizeof(struct privcmd_mmapbatch_v2)</c> on x86_64: <c>num</c> u32 @0, <c>dom</c> u16 @4, <c>addr</c> u64 @8,
    /// <c>arr</c> (pointer to u64 frame numbers) @16, <c>err</c> (pointer to int per frame) @24.
    /// </summary>
    public const int MmapBatchV2Size = 32;

    /// <summary>
    /// <c>DOMID_SELF</c> = 0x7FF0 (xen/include/public/xen.h). The frames get_buffer returns are Xen heap pages Xen
    /// shared with the caller (<c>share_xen_page_with_guest</c>, xen/common/xenoprof.c), so the caller owns them and maps
    /// them as its own; Xen's <c>get_pg_owner</c> refuses the caller's own domid as a "foreign" domain.
    /// </summary>
    public const ushort DomidSelf = 0x7FF0;

    /// <summary>x86 page size, bytes.</summary>
    public const int PageSize = 4096;

    private readonly IPrivcmdDevice _device;
    private readonly List<PrivcmdMapping> _mappings = new();
    private readonly List<XenoprofBufferSet> _sets = new();

    internal PrivcmdHypercalls(IPrivcmdDevice device, int callerDomain = 0, TextWriter? log = null)
    {
        _device = device;
        CallerDomain = callerDomain;
        Log = log;
    }

    /// <summary>
    /// Opens <paramref name="devicePath"/>; <paramref name="log"/> receives one line per call. Throws
    /// <see cref="XenUnavailableException"/> with a clear message when the device is absent (not a Xen dom0, or the
    /// privcmd driver is not loaded) or not accessible.
    /// </summary>
    public static PrivcmdHypercalls Open(string devicePath = DevicePath, TextWriter? log = null) => new(PrivcmdDevice.Open(devicePath), 0, log);

    /// <inheritdoc/>
    public int CallerDomain { get; }

    /// <summary>The buffer sets <see cref="MapBuffers"/> mapped, in order; empty after <see cref="Dispose"/>.</summary>
    public IReadOnlyList<XenoprofBufferSet> MappedSets => _sets;

    /// <inheritdoc/>
    public bool Compat => IntPtr.Size == 4;

    /// <summary>
    /// Where each hypercall and mapping is written as one line, <c>NAME -&gt; RESULT (decoded fields)</c>, e.g.
    /// <c>XENOPROF_init -&gt; 0 (num_events=4, is_primary=1, cpu_type=x86-64/hammer)</c>; null for none.
    /// </summary>
    public TextWriter? Log { get; set; }

    /// <summary>Encodes the <c>privcmd_hypercall</c> block for sub-operation <paramref name="op"/> with its argument at <paramref name="argAddress"/>.</summary>
    public static void EncodeHypercall(Span<byte> block, XenoprofOp op, ulong argAddress)
    {
        block[..PrivcmdHypercallSize].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(block, XenoprofAbi.HypercallNumber);
        BinaryPrimitives.WriteUInt64LittleEndian(block[8..], (ulong)(int)op);
        BinaryPrimitives.WriteUInt64LittleEndian(block[16..], argAddress);
    }

    /// <summary>Encodes the <c>privcmd_mmapbatch_v2</c> block (layout at <see cref="MmapBatchV2Size"/>).</summary>
    public static void EncodeMmapBatchV2(Span<byte> block, uint num, ushort dom, ulong addr, ulong frames, ulong errors)
    {
        block[..MmapBatchV2Size].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(block, num);
        BinaryPrimitives.WriteUInt16LittleEndian(block[4..], dom);
        BinaryPrimitives.WriteUInt64LittleEndian(block[8..], addr);
        BinaryPrimitives.WriteUInt64LittleEndian(block[16..], frames);
        BinaryPrimitives.WriteUInt64LittleEndian(block[24..], errors);
    }

    /// <inheritdoc/>
    public unsafe int Op(XenoprofOp op, Span<byte> arg)
    {
        int rc;
        // The argument must not move while Xen copies from and to it: pin it (Linux locks the pages during the call).
        fixed (byte* p = arg)
        {
            Span<byte> block = stackalloc byte[PrivcmdHypercallSize];
            EncodeHypercall(block, op, arg.IsEmpty ? 0 : (ulong)p);
            rc = _device.Hypercall(IoctlHypercall, block);
        }
        if (Log != null) Write($"{XenoprofAbi.OpName(op)} -> {XenoprofAbi.ErrorName(rc)}{Describe(op, arg, rc, Compat)}");
        return rc;
    }

    /// <summary>
    /// Maps the <paramref name="nbuf"/> × <paramref name="bufSize"/> bytes at machine address <paramref name="gmaddr"/>
    /// into this process: an <c>mmap</c> of the privcmd device, then <c>IOCTL_PRIVCMD_MMAPBATCH_V2</c> with
    /// <c>dom</c> = <see cref="DomidSelf"/> and the machine frame numbers <c>gmaddr &gt;&gt; 12</c> onwards (a PV dom0's
    /// frame numbers are machine frames). Each buffer's header is checked and logged: <c>vcpu_id</c> &lt; nbuf,
    /// <c>event_size</c> = the entries <paramref name="bufSize"/> holds, head and tail in range (get_buffer and
    /// enable_virq reset them to 0). Throws <see cref="XenoprofMappingException"/> naming the frame and errno when Linux or
    /// Xen refuse, or when a header does not hold. The mapping lives until <see cref="Dispose"/>.
    /// </summary>
    public unsafe XenoprofBufferSet MapBuffers(ulong gmaddr, int nbuf, int bufSize, int domainId, bool passive)
    {
        if (nbuf <= 0 || bufSize <= XenoprofBufLayout.HeaderSize) throw new XenoprofMappingException($"buffer geometry nbuf={nbuf} bufsize={bufSize} from Xen is not usable");
        ulong first = gmaddr / PageSize, within = gmaddr % PageSize;
        int pages = (int)((within + (ulong)nbuf * (ulong)bufSize + PageSize - 1) / PageSize);
        long length = (long)pages * PageSize;
        nint addr = _device.Map(length);
        if (addr < 0 && addr > -4096)
        {
            Write($"mmap {DevicePath} {pages} pages -> {Errno((int)-addr)}");
            throw new XenoprofMappingException($"mmap of {DevicePath} for {pages} pages failed: {Errno((int)-addr)}");
        }
        var frames = new ulong[pages];
        var errors = new int[pages];
        for (int i = 0; i < pages; i++) frames[i] = first + (ulong)i;
        int rc;
        fixed (ulong* f = frames)
        fixed (int* e = errors)
        {
            Span<byte> block = stackalloc byte[MmapBatchV2Size];
            EncodeMmapBatchV2(block, (uint)pages, DomidSelf, (ulong)addr, (ulong)f, (ulong)e);
            rc = _device.Hypercall(IoctlMmapBatchV2, block);
        }
        int bad = Array.FindIndex(errors, x => x != 0);
        Write($"IOCTL_PRIVCMD_MMAPBATCH_V2 (dom=DOMID_SELF, mfn=0x{first:x}, {pages} pages, domain {domainId} {(passive ? "passive" : "own")} buffers) -> {(rc < 0 ? Errno(-rc) : "0")}"
            + (bad >= 0 ? $", page {bad} (mfn 0x{frames[bad]:x}): {Errno(-errors[bad])}" : ""));
        if (rc < 0 || bad >= 0)
        {
            _device.Unmap(addr, length);
            throw new XenoprofMappingException(rc < 0
                ? $"IOCTL_PRIVCMD_MMAPBATCH_V2 of {pages} frames from mfn 0x{first:x} failed: {Errno(-rc)}"
                : $"Xen refused to map mfn 0x{frames[bad]:x} (page {bad} of {pages}): {Errno(-errors[bad])}");
        }
        var mapping = new PrivcmdMapping(_device, addr, length);
        _mappings.Add(mapping);
        var set = new XenoprofBufferSet(mapping, within, nbuf, bufSize, domainId, passive);
        CheckHeaders(set);
        _sets.Add(set);
        return set;
    }

    private void CheckHeaders(XenoprofBufferSet set)
    {
        uint entries = (uint)XenoprofRing.Capacity(set.BufSize, Compat);
        for (int i = 0; i < set.NBuf; i++)
        {
            var h = XenoprofBufHeader.Read(set.Buffer(i));
            bool ok = h.VcpuId < (uint)set.NBuf && h.Size == entries && h.Head < h.Size && h.Tail < h.Size;
            Write($"  buffer {i}: vcpu_id={h.VcpuId} event_size={h.Size} event_head={h.Head} event_tail={h.Tail} samples xen={h.XenSamples} kernel={h.KernelSamples} user={h.UserSamples} lost={h.LostSamples}{(ok ? "" : $" (expected vcpu_id < {set.NBuf}, event_size {entries}, head and tail below it)")}");
            if (!ok) throw new XenoprofMappingException($"mapped buffer {i} of domain {set.DomainId} does not look like a xenoprof_buf: vcpu_id={h.VcpuId} event_size={h.Size} head={h.Head} tail={h.Tail}, expected vcpu_id < {set.NBuf} and event_size {entries}");
        }
    }

    /// <summary>Unmaps every mapped buffer set and closes the device.</summary>
    public void Dispose()
    {
        foreach (var m in _mappings) m.Dispose();
        _mappings.Clear();
        _sets.Clear();
        _device.Dispose();
    }

    private void Write(string line)
    {
        if (Log == null) return;
        Log.WriteLine(line);
        Log.Flush();
    }

    internal static string Errno(int errno) => $"errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})";

    // The decoded output (or, for setters, input) fields worth a line in the log.
    private static string Describe(XenoprofOp op, ReadOnlySpan<byte> arg, int rc, bool compat)
    {
        var inv = CultureInfo.InvariantCulture;
        switch (op)
        {
            case XenoprofOp.Init when rc == 0:
                var init = XenoprofInit.Read(arg);
                return string.Create(inv, $" (num_events={init.NumEvents}, is_primary={(init.IsPrimary ? 1 : 0)}, cpu_type={init.CpuType})");
            case XenoprofOp.GetBuffer:
                var b = XenoprofGetBuffer.Read(arg, compat);
                return rc == 0 ? string.Create(inv, $" (max_samples={b.MaxSamples}, nbuf={b.NBuf}, bufsize={b.BufSize}, buf_gmaddr=0x{b.BufGmaddr:x})") : string.Create(inv, $" (max_samples={b.MaxSamples})");
            case XenoprofOp.SetPassive:
                var p = XenoprofPassive.Read(arg);
                return string.Create(inv, $" (domain_id={p.DomainId}, nbuf={p.NBuf}, bufsize={p.BufSize}, buf_gmaddr=0x{p.BufGmaddr:x})");
            case XenoprofOp.SetActive:
                return string.Create(inv, $" (domid={BinaryPrimitives.ReadUInt16LittleEndian(arg)})");
            case XenoprofOp.Counter:
                var c = XenoprofCounter.Read(arg, compat);
                return string.Create(inv, $" (ind={c.Ind}, event=0x{c.Event:x}, count={c.Count}, kernel={(c.Kernel ? 1 : 0)}, user={(c.User ? 1 : 0)}, unit_mask=0x{c.UnitMask:x})");
            case XenoprofOp.SetBacktrace:
                return string.Create(inv, $" (depth={BinaryPrimitives.ReadUInt32LittleEndian(arg)})");
            default:
                return "";
        }
    }
}

/// <summary>Xen is not reachable from here (no <c>/dev/xen/privcmd</c>, or no permission). The message says which and what to do.</summary>
public sealed class XenUnavailableException(string message) : XenProf.Hypervisor.Binary.XenProfUserException(message);

/// <summary>Xen's sample buffers could not be mapped into this process, or what was mapped is not a xenoprof buffer; the message names the frame and the errno.</summary>
public sealed class XenoprofMappingException(string message) : XenProf.Hypervisor.Binary.XenProfUserException(message);
