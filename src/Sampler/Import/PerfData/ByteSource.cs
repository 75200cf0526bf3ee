using XenProf.Hypervisor.Binary;

namespace XenProf.Sampler.Import.PerfData;

/// <summary>
/// Forward-only window over a stream for record-by-record reading: holds at most one buffer (1 MiB, grown only
/// for an oversized record), so memory stays flat however large the file is. <see cref="Offset"/> is the absolute
/// stream position of the next unread byte.
/// </summary>
internal sealed class ByteSource
{
    private readonly Stream _stream;
    private byte[] _buf = new byte[1 << 20];
    private int _start, _end;
    private bool _eof;

    public ByteSource(Stream stream, long startOffset) { _stream = stream; Offset = startOffset; }

    /// <summary>Absolute offset of the next unread byte.</summary>
    public long Offset { get; private set; }

    /// <summary>Makes at least <paramref name="n"/> bytes available; false if the stream ends first (then <see cref="Available"/> tells how many are left).</summary>
    public bool Ensure(int n)
    {
        if (_end - _start >= n) return true;
        if (_start > 0)
        {
            Buffer.BlockCopy(_buf, _start, _buf, 0, _end - _start);
            _end -= _start; _start = 0;
        }
        if (n > _buf.Length) Array.Resize(ref _buf, Math.Max(n, _buf.Length * 2));
        while (_end < n && !_eof)
        {
            int r = _stream.Read(_buf, _end, _buf.Length - _end);
            if (r <= 0) _eof = true; else _end += r;
        }
        return _end - _start >= n;
    }

    /// <summary>Bytes buffered and unread.</summary>
    public int Available => _end - _start;

    /// <summary>The next <paramref name="n"/> bytes (call <see cref="Ensure"/> first).</summary>
    public ReadOnlySpan<byte> Peek(int n) => _buf.AsSpan(_start, n);

    /// <summary>Consumes <paramref name="n"/> bytes (buffered or not); returns how many could be skipped before the end.</summary>
    public long Skip(long n)
    {
        long done = 0;
        int inBuf = (int)Math.Min(n, _end - _start);
        _start += inBuf; done += inBuf; Offset += inBuf;
        if (done < n)
        {
            long rest = n - done;
            if (_stream.CanSeek)
            {
                long can = Math.Max(0, Math.Min(rest, _stream.Length - _stream.Position));
                _stream.Seek(can, SeekOrigin.Current);
                done += can; Offset += can;
            }
            else
            {
                while (rest > 0 && Ensure(1))
                {
                    int k = (int)Math.Min(rest, _end - _start);
                    _start += k; rest -= k; done += k; Offset += k;
                }
            }
        }
        return done;
    }
}

/// <summary>Small helpers for raising <see cref="MalformedDataException"/> with perf.data structure names.</summary>
internal static class PerfDataErrors
{
    public static MalformedDataException At(string path, long offset, string structure, string problem) => new(path, offset, structure, problem);
}
