namespace XenProf.Hypervisor.Xenoprof.Internal;

/// <summary>Pages of Xen's xenoprof buffers mapped through the privcmd device: bytes [0, Length) from the first mapped page.</summary>
internal sealed unsafe class PrivcmdMapping(IPrivcmdDevice device, nint address, long length) : IXenoprofBufferMemory, IDisposable
{
    private nint _address = address;

    public long Length => length;

    public Span<byte> Slice(long offset, int count)
    {
        if (_address == 0) throw new ObjectDisposedException(nameof(PrivcmdMapping), "the xenoprof buffers were unmapped");
        if (offset < 0 || count < 0 || offset + count > length) throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, +{count}) outside the {length}-byte mapping of Xen's buffers");
        return new Span<byte>((byte*)_address + offset, count);
    }

    public void Dispose()
    {
        if (_address == 0) return;
        device.Unmap(_address, length);
        _address = 0;
    }
}
