using XenProf.Hypervisor.Binary;
using ZstdSharp.Unsafe;

namespace XenProf.Sampler.Import.PerfData;

/// <summary>
/// The one zstd stream that PERF_RECORD_COMPRESSED/COMPRESSED2 records carry (perf record -z; tools/perf/Documentation/perf.data-file-format.txt, PERF_RECORD_COMPRESSED and HEADER_COMPRESSED):
/// only the first record starts a frame and later ones continue it, so a single decompression context is kept
/// for the whole file. Decompressed bytes accumulate in a buffer; the consumer takes the complete records and
/// the incomplete tail is carried to the next call, since records span compressed-record boundaries.
/// </summary>
internal sealed unsafe class ZstdRecordStream : IDisposable
{
    private readonly string _path;
    private ZSTD_DCtx_s* _dctx;
    private byte[] _out = new byte[1 << 20];
    private int _outLen;

    public ZstdRecordStream(string path)
    {
        _path = path;
        _dctx = Methods.ZSTD_createDCtx();
    }

    /// <summary>
    /// Decompresses <paramref name="input"/> and calls <paramref name="consume"/> with all bytes decompressed so far
    /// (carried tail first); it returns how many leading bytes it used.
    /// </summary>
    public void Feed(ReadOnlySpan<byte> input, long recordOffset, ConsumeBytes consume)
    {
        fixed (byte* inPtr = input)
        {
            var inBuf = new ZSTD_inBuffer_s { src = inPtr, size = (nuint)input.Length, pos = 0 };
            while (true)
            {
                if (_out.Length - _outLen < (1 << 17)) Array.Resize(ref _out, _out.Length * 2);
                nuint ret;
                bool full;
                fixed (byte* outPtr = _out)
                {
                    var outBuf = new ZSTD_outBuffer_s { dst = outPtr + _outLen, size = (nuint)(_out.Length - _outLen), pos = 0 };
                    ret = Methods.ZSTD_decompressStream(_dctx, &outBuf, &inBuf);
                    _outLen += (int)outBuf.pos;
                    full = outBuf.pos == outBuf.size;
                }
                if (Methods.ZSTD_isError(ret))
                    throw new MalformedDataException(_path, recordOffset, "PERF_RECORD_COMPRESSED",
                        $"zstd: {Methods.ZSTD_getErrorName(ret)}");
                int used = consume(_out.AsSpan(0, _outLen));
                if (used > 0)
                {
                    Buffer.BlockCopy(_out, used, _out, 0, _outLen - used);
                    _outLen -= used;
                }
                if (inBuf.pos >= inBuf.size && !full) break;
                if (_outLen > 64 << 20)
                    throw new MalformedDataException(_path, recordOffset, "PERF_RECORD_COMPRESSED", "decompressed data holds no complete record in 64 MiB");
            }
        }
    }

    public void Dispose()
    {
        if (_dctx != null) { Methods.ZSTD_freeDCtx(_dctx); _dctx = null; }
    }
}

/// <summary>Consumes decompressed bytes; returns how many leading bytes were used.</summary>
internal delegate int ConsumeBytes(ReadOnlySpan<byte> bytes);
