namespace XenProf.Hypervisor.Xenoprof;

/// <summary>
/// The <c>xenoprof_op</c> hypercall (number 31, xen/include/public/xen.h; arguments in xen/include/public/xenoprof.h) as one calling domain issues it: a sub-operation
/// and its argument bytes in, Xen's return value out (0 or a negated errno, or a value such as IBS caps).
/// <see cref="EmulatedHypervisor"/> implements it over a Xen model; <see cref="PrivcmdHypercalls"/> through
/// <c>/dev/xen/privcmd</c> on a real dom0. Typed calls live in <see cref="XenoprofCalls"/>.
/// </summary>
public interface IXenoprofHypercalls : IDisposable
{
    /// <summary>Domain issuing the calls (the caller Xen sees as <c>current-&gt;domain</c>).</summary>
    int CallerDomain { get; }

    /// <summary>True when the caller uses the 32-bit compat argument layouts.</summary>
    bool Compat { get; }

    /// <summary>Issues <paramref name="op"/> with <paramref name="arg"/> (in/out bytes in the layouts of <see cref="XenoprofCounter"/> and its siblings; empty for ops without argument).</summary>
    int Op(XenoprofOp op, Span<byte> arg);

    /// <summary>Maps the buffers handed out by get_buffer or set_passive (<paramref name="gmaddr"/>, <paramref name="nbuf"/> × <paramref name="bufSize"/>).</summary>
    XenoprofBufferSet MapBuffers(ulong gmaddr, int nbuf, int bufSize, int domainId, bool passive);
}

/// <summary>A hypercall that returned an error: which operation, and Xen's value.</summary>
public sealed class XenoprofException(XenoprofOp op, int rc, string? detail = null)
    : XenProf.Hypervisor.Binary.XenProfUserException($"{XenoprofAbi.OpName(op)} failed: {XenoprofAbi.ErrorName(rc)}{(detail == null ? "" : " (" + detail + ")")}")
{
    /// <summary>The operation.</summary>
    public XenoprofOp Op { get; } = op;

    /// <summary>Xen's return value (a negated errno).</summary>
    public int ReturnCode { get; } = rc;
}

/// <summary>Typed wrappers over <see cref="IXenoprofHypercalls.Op"/>: encode the argument, call, decode, throw <see cref="XenoprofException"/> on error.</summary>
public static class XenoprofCalls
{
    /// <summary>XENOPROF_init.</summary>
    public static XenoprofInit Init(this IXenoprofHypercalls h)
    {
        Span<byte> b = stackalloc byte[XenoprofInit.Size];
        Check(XenoprofOp.Init, h.Op(XenoprofOp.Init, b));
        return XenoprofInit.Read(b);
    }

    /// <summary>XENOPROF_get_buffer: the caller's VCPU buffers with room for <paramref name="maxSamples"/> entries each (Xen may clip).</summary>
    public static XenoprofGetBuffer GetBuffer(this IXenoprofHypercalls h, int maxSamples)
    {
        Span<byte> b = stackalloc byte[24];
        new XenoprofGetBuffer(maxSamples).Write(b, h.Compat);
        Check(XenoprofOp.GetBuffer, h.Op(XenoprofOp.GetBuffer, b[..XenoprofGetBuffer.Size(h.Compat)]));
        return XenoprofGetBuffer.Read(b, h.Compat);
    }

    /// <summary>XENOPROF_set_active.</summary>
    public static void SetActive(this IXenoprofHypercalls h, ushort domid)
    {
        Span<byte> b = stackalloc byte[2];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(b, domid);
        Check(XenoprofOp.SetActive, h.Op(XenoprofOp.SetActive, b), $"domain {domid}");
    }

    /// <summary>XENOPROF_set_passive: the passive domain's buffers, shared with the caller.</summary>
    public static XenoprofPassive SetPassive(this IXenoprofHypercalls h, ushort domid, int maxSamples)
    {
        Span<byte> b = stackalloc byte[XenoprofPassive.Size];
        new XenoprofPassive(domid, maxSamples).Write(b);
        Check(XenoprofOp.SetPassive, h.Op(XenoprofOp.SetPassive, b), $"domain {domid}");
        return XenoprofPassive.Read(b);
    }

    /// <summary>XENOPROF_counter.</summary>
    public static void Counter(this IXenoprofHypercalls h, XenoprofCounter counter)
    {
        Span<byte> b = stackalloc byte[48];
        counter.Write(b, h.Compat);
        Check(XenoprofOp.Counter, h.Op(XenoprofOp.Counter, b[..XenoprofCounter.Size(h.Compat)]), $"counter {counter.Ind}");
    }

    /// <summary>XENOPROF_set_backtrace (argument: an unsigned long depth).</summary>
    public static void SetBacktrace(this IXenoprofHypercalls h, int depth)
    {
        Span<byte> b = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)depth);
        Check(XenoprofOp.SetBacktrace, h.Op(XenoprofOp.SetBacktrace, h.Compat ? b[..4] : b));
    }

    /// <summary>An operation without argument (reserve_counters, setup_events, enable_virq, start, stop, …).</summary>
    public static void Simple(this IXenoprofHypercalls h, XenoprofOp op) => Check(op, h.Op(op, Span<byte>.Empty));

    /// <summary>Throws <see cref="XenoprofException"/> for a negative <paramref name="rc"/>.</summary>
    public static void Check(XenoprofOp op, int rc, string? detail = null)
    {
        if (rc < 0) throw new XenoprofException(op, rc, detail);
    }
}
