namespace XenProf.Reporter.Symbols.SymbolsInternal;

/// <summary>One string table a symbol name can point into: <c>[Offset, Offset+Size)</c> of a mapped file.</summary>
internal readonly record struct StringTableRef(MappedBytes Bytes, long Offset, long Size);

/// <summary>A function symbol as read from <c>.symtab</c>/<c>.dynsym</c>, before sorting and de-duplication.</summary>
internal struct RawSymbol
{
    public ulong Start;
    /// <summary><c>st_size</c>.</summary>
    public ulong Size;
    /// <summary>End of the symbol's section (<c>sh_addr + sh_size</c>), or 0 if unknown.</summary>
    public ulong SectionEnd;
    /// <summary>Offset of the name inside its string table.</summary>
    public uint NameOffset;
    /// <summary>Index of the string table in the table's source list.</summary>
    public byte Source;
    /// <summary><c>ELF64_ST_BIND(st_info)</c>.</summary>
    public byte Bind;
}

/// <summary>
/// Sorted, de-duplicated function symbols with lazily decoded names. Building rules:
/// <list type="number">
/// <item>Symbols sharing a start address are aliases; one name is kept, chosen by binding (GLOBAL and GNU_UNIQUE,
/// then WEAK, then LOCAL), then the shortest name, then the ordinal (byte-wise) smallest name. The kept extent
/// is the largest <c>st_size</c> of the group.</item>
/// <item>A zero-size symbol extends to the next symbol's start, bounded by the end of its section; if there is
/// neither, it covers one byte.</item>
/// <item>Lookup picks the nearest symbol starting at or below the address that contains it (nested symbols
/// are found up to 16 entries back).</item>
/// </list>
/// </summary>
internal sealed class SymbolTable
{
    private readonly ulong[] _starts;
    private readonly ulong[] _ends;
    private readonly uint[] _nameOffsets;
    private readonly byte[] _sources;
    private readonly string?[] _names;
    private readonly StringTableRef[] _strtabs;

    public static readonly SymbolTable Empty = new([], []);

    public int Count => _starts.Length;

    public SymbolTable(RawSymbol[] raw, StringTableRef[] strtabs)
    {
        _strtabs = strtabs;
        var keys = new ulong[raw.Length];
        for (int i = 0; i < raw.Length; i++) keys[i] = raw[i].Start;
        Array.Sort(keys, raw); // order within an address group does not matter: the best alias is chosen below
        int n = 0;
        for (int i = 0; i < raw.Length;)
        {
            int best = i;
            ulong size = raw[i].Size, limit = raw[i].SectionEnd;
            int j = i + 1;
            for (; j < raw.Length && raw[j].Start == raw[i].Start; j++)
            {
                if (Better(raw[j], raw[best])) best = j;
                size = Math.Max(size, raw[j].Size);
                limit = Math.Max(limit, raw[j].SectionEnd);
            }
            var keep = raw[best];
            keep.Size = size;
            keep.SectionEnd = limit;
            raw[n++] = keep;
            i = j;
        }
        _starts = new ulong[n];
        _ends = new ulong[n];
        _nameOffsets = new uint[n];
        _sources = new byte[n];
        _names = new string?[n];
        for (int i = 0; i < n; i++)
        {
            ref var r = ref raw[i];
            _starts[i] = r.Start;
            _nameOffsets[i] = r.NameOffset;
            _sources[i] = r.Source;
            ulong end;
            if (r.Size != 0) end = r.Start + r.Size;
            else
            {
                end = i + 1 < n ? raw[i + 1].Start : ulong.MaxValue;
                if (r.SectionEnd > r.Start && r.SectionEnd < end) end = r.SectionEnd;
                if (end == ulong.MaxValue) end = r.Start + 1;
            }
            _ends[i] = end;
        }
    }

    private static int Rank(byte bind) => bind switch { 1 or 10 => 0, 2 => 1, _ => 2 };

    private bool Better(in RawSymbol a, in RawSymbol b)
    {
        int ra = Rank(a.Bind), rb = Rank(b.Bind);
        if (ra != rb) return ra < rb;
        var sa = NameBytes(a.Source, a.NameOffset);
        var sb = NameBytes(b.Source, b.NameOffset);
        if (sa.Length != sb.Length) return sa.Length < sb.Length;
        return sa.SequenceCompareTo(sb) < 0;
    }

    private ReadOnlySpan<byte> NameBytes(byte source, uint offset)
    {
        var t = _strtabs[source];
        long at = t.Offset + offset;
        int len = t.Bytes.CStringLength(at, t.Offset + t.Size);
        return t.Bytes.Span(at, len);
    }

    /// <summary>Index of the symbol containing <paramref name="address"/>, or -1.</summary>
    public int IndexOf(ulong address)
    {
        int lo = 0, hi = _starts.Length; // first index with start > address
        while (lo < hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            if (_starts[mid] <= address) lo = mid + 1; else hi = mid;
        }
        for (int k = lo - 1; k >= 0 && k >= lo - 16; k--)
            if (address < _ends[k]) return k;
        return -1;
    }

    public ulong StartAt(int i) => _starts[i];
    public ulong SizeAt(int i) => _ends[i] - _starts[i];

    public string NameAt(int i)
    {
        var s = _names[i];
        if (s != null) return s;
        var t = _strtabs[_sources[i]];
        return _names[i] = t.Bytes.CString(t.Offset + _nameOffsets[i], t.Offset + t.Size);
    }
}
