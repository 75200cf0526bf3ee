using System.Buffers.Binary;
using System.Runtime.InteropServices;
using XenProf.Hypervisor.Xenoprof.Internal;

namespace XenProf.Hypervisor.Xenoprof;

/// <summary>
/// xenoprof_op on a real Xen dom0 through <c>/dev/xen/privcmd</c>: each call is an <c>IOCTL_PRIVCMD_HYPERCALL</c> with
/// <c>struct privcmd_hypercall { u64 op; u64 arg[5]; }</c> = { 31, sub-op, pointer to the argument bytes }
/// (Linux <c>include/uapi/xen/privcmd.h</c>; hypercall number <c>__HYPERVISOR_xenoprof_op</c> in xen/include/public/xen.h). The ioctl returns the
/// hypervisor's value, or −1 with errno set by Linux. Mapping the shared buffers needs foreign-page mapping of Xen
/// heap pages, which is not implemented: <see cref="MapBuffers"/> throws <see cref="NotSupportedException"/>.
/// Xen dropped xenoprof after 4.21 (xen commit 69e8aaf9cc, "xen: Drop xenoprofile support"), so only Xen ≤ 4.21 built with CONFIG_XENOPROF answers.
/// </summary>
public sealed class PrivcmdHypercalls : IXenoprofHypercalls
{
    /// <summary>Default device path.</summary>
    public const string DevicePath = "/dev/xen/privcmd";

    /// <summary><c>IOCTL_PRIVCMD_HYPERCALL</c> = <c>_IOC(_IOC_NONE, 'P', 0, sizeof(struct privcmd_hypercall))</c> = 0x305000.</summary>
    public const uint IoctlHypercall = (0u << 30) | (PrivcmdHypercallSize << 16) | ('P' << 8) | 0;

    /// <summary><c>sizeof(struct privcmd_hypercall)</c>: op + five arguments, u64 each.</summary>
    public const int PrivcmdHypercallSize = 48;

    private readonly IPrivcmdDevice _device;

    internal PrivcmdHypercalls(IPrivcmdDevice device, int callerDomain = 0)
    {
        _device = device;
        CallerDomain = callerDomain;
    }

    /// <summary>
    /// Opens <paramref name="devicePath"/>. Throws <see cref="XenUnavailableException"/> with a clear message when the
    /// device is absent (not a Xen dom0, or the privcmd driver is not loaded) or not accessible.
    /// </summary>
    public static PrivcmdHypercalls Open(string devicePath = DevicePath) => new(PrivcmdDevice.Open(devicePath));

    /// <inheritdoc/>
    public int CallerDomain { get; }

    /// <inheritdoc/>
    public bool Compat => IntPtr.Size == 4;

    /// <summary>Encodes the <c>privcmd_hypercall</c> block for sub-operation <paramref name="op"/> with its argument at <paramref name="argAddress"/>.</summary>
    public static void EncodeHypercall(Span<byte> block, XenoprofOp op, ulong argAddress)
    {
        block[..PrivcmdHypercallSize].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(block, XenoprofAbi.HypercallNumber);
        BinaryPrimitives.WriteUInt64LittleEndian(block[8..], (ulong)(int)op);
        BinaryPrimitives.WriteUInt64LittleEndian(block[16..], argAddress);
    }

    /// <inheritdoc/>
    public unsafe int Op(XenoprofOp op, Span<byte> arg)
    {
        // The argument must not move while Xen copies from and to it: pin it (Linux locks the pages during the call).
        fixed (byte* p = arg)
        {
            Span<byte> block = stackalloc byte[PrivcmdHypercallSize];
            EncodeHypercall(block, op, arg.IsEmpty ? 0 : (ulong)p);
            return _device.Hypercall(IoctlHypercall, block);
        }
    }

    /// <inheritdoc/>
    public XenoprofBufferSet MapBuffers(ulong gmaddr, int nbuf, int bufSize, int domainId, bool passive) =>
        throw new NotSupportedException($"mapping xenoprof buffers at machine address 0x{gmaddr:x} needs foreign mapping of Xen heap pages, which XenProf does not implement; use --hypervisor=emulated:SCENARIO");

    /// <inheritdoc/>
    public void Dispose() => _device.Dispose();
}

/// <summary>Xen is not reachable from here (no <c>/dev/xen/privcmd</c>, or no permission). The message says which and what to do.</summary>
public sealed class XenUnavailableException(string message) : XenProf.Hypervisor.Binary.XenProfUserException(message);
