using XenProf.Hypervisor.Binary.Elf;

namespace XenProf.Reporter.Symbols.SymbolsInternal;


/// <summary>A symbol as read from <c>.symtab</c>/<c>.dynsym</c>, before sorting and de-duplication.</summary>
internal struct RawSymbol
{
    public ulong Start;
    /// <summary><c>st_size</c>.</summary>
    public ulong Size;
    /// <summary>Offset of the name inside its string table.</summary>
    public uint NameOffset;
    /// <summary>Index of the string table in the table's source list.</summary>
    public byte Source;
    /// <summary><c>ELF64_ST_BIND(st_info)</c>: 0 LOCAL, 1 GLOBAL, 2 WEAK, 10 GNU_UNIQUE.</summary>
    public byte Bind;
    /// <summary>Whether it is a function (<c>STT_FUNC</c>, <c>STT_GNU_IFUNC</c>), as opposed to a data object or a label.</summary>
    public bool IsFunction;
}

/// <summary>
/// Sorted, de-duplicated symbols with lazily decoded names, built the way perf 6.1 builds a DSO's symbol tree
/// (<c>tools/perf/util/symbol-elf.c</c> <c>dso__load_sym</c> and <c>tools/perf/util/symbol.c</c>):
/// <list type="number">
/// <item>Symbols come in passes (a file's <c>.symtab</c>, then its <c>.dynsym</c>). Each pass is inserted into the
/// address-ordered set after what is already there (a symbol starting where others start goes after them, as perf's
/// <c>symbols__insert</c> sends equal keys right), then two fix-ups run over the whole set, as at the end of
/// <c>dso__load_sym_internal</c>:</item>
/// <item><c>symbols__fixup_end</c>: a symbol whose end equals its start (zero <c>st_size</c>) ends where the next
/// symbol in the set starts, whatever section that one is in (so a zero-size alias followed by another symbol at the
/// same address stays empty); the last symbol, if still empty, ends at <c>roundup(start, 4096) + 4096</c>.</item>
/// <item><c>symbols__fixup_duplicate</c>: among symbols with the same start, one is kept by
/// <c>choose_best_symbol</c>: a non-empty extent, then not WEAK, then GLOBAL (only <c>STB_GLOBAL</c>: GNU_UNIQUE
/// counts as not global), then fewer leading underscores, then the longer name; on a full tie the earlier one stays
/// (x86's <c>arch__choose_best_symbol</c> keeps the first). Names are compared as displayed (perf compares the
/// demangled names), through the name form given to the constructor. The kept symbol keeps its own extent.</item>
/// <item>Lookup picks the nearest symbol starting at or below the address whose extent contains it; an empty
/// symbol contains only its start (perf's <c>symbols__find</c> test <c>ip &gt; end || (ip == end &amp;&amp; ip != start)</c>).
/// Nested symbols are found up to 16 entries back.</item>
/// </list>
/// Data objects and labels take part (perf keeps <c>STT_OBJECT</c> and text/data labels in the same tree, and they
/// bound zero-size functions), so a lookup can return one; <see cref="IsFunctionAt"/> tells them apart.
/// </summary>
internal sealed class SymbolTable
{
    private readonly ulong[] _starts;
    private readonly ulong[] _ends;
    private readonly uint[] _nameOffsets;
    private readonly byte[] _sources;
    private readonly bool[] _functions;
    private readonly string?[] _names;
    private readonly ElfStringTable[] _strtabs;

    public static readonly SymbolTable Empty = new([], [], null, null);

    public int Count => _starts.Length;

    private struct Node
    {
        public RawSymbol Sym;
        public ulong End;
    }

    /// <param name="passes">Symbols of each pass, each in symbol-table order.</param>
    /// <param name="strtabs">String tables the symbols' <see cref="RawSymbol.Source"/> index.</param>
    /// <param name="nameForm">Maps a raw name to the displayed one for the underscore and length comparisons
    /// (demangling), or null to compare raw names.</param>
    /// <param name="synthesized">Named ranges added after the fix-ups, as perf adds its <c>name@plt</c> symbols
    /// (<c>dso__synthesize_plt_symbols</c>, run after <c>dso__load_sym</c>): they neither end zero-size symbols nor
    /// take part in alias choice, and being nested inside such an extended symbol they are what a lookup finds.</param>
    public SymbolTable(IReadOnlyList<RawSymbol[]> passes, ElfStringTable[] strtabs, Func<string, string>? nameForm,
        IReadOnlyList<(ulong Start, ulong Size, string Name)>? synthesized)
    {
        _strtabs = strtabs;
        var set = Array.Empty<Node>();
        int count = 0;
        foreach (var pass in passes)
        {
            if (pass.Length == 0) continue;
            set = Merge(set, count, pass);
            count = set.Length;
            FixupEnd(set, count);
            count = FixupDuplicate(set, count, nameForm);
        }
        var extra = synthesized?.OrderBy(e => e.Start).ToArray() ?? [];
        int n = count + extra.Length;
        _starts = new ulong[n];
        _ends = new ulong[n];
        _nameOffsets = new uint[n];
        _sources = new byte[n];
        _functions = new bool[n];
        _names = new string?[n];
        for (int i = 0, a = 0, b = 0; i < n; i++)
        {
            if (b < extra.Length && (a >= count || extra[b].Start < set[a].Sym.Start))
            {
                var (start, size, name) = extra[b++];
                _starts[i] = start;
                _ends[i] = start + Math.Max(size, 1);
                _names[i] = name;
                continue;
            }
            ref var s = ref set[a++];
            _starts[i] = s.Sym.Start;
            _ends[i] = s.End;
            _nameOffsets[i] = s.Sym.NameOffset;
            _sources[i] = s.Sym.Source;
            _functions[i] = s.Sym.IsFunction;
        }
    }

    // The set's first `count` nodes plus one pass, in address order; equal starts keep table order and come after
    // the set's own.
    private static Node[] Merge(Node[] set, int count, RawSymbol[] pass)
    {
        int n = pass.Length;
        var starts = new ulong[n];
        var idx = new int[n];
        for (int i = 0; i < n; i++) { starts[i] = pass[i].Start; idx[i] = i; }
        Array.Sort(starts, idx);
        for (int i = 0; i < n;)
        {
            int j = i + 1;
            while (j < n && starts[j] == starts[i]) j++;
            if (j - i > 1) Array.Sort(idx, i, j - i);
            i = j;
        }
        var merged = new Node[count + n];
        int a = 0, b = 0, k = 0;
        while (a < count || b < n)
        {
            if (b >= n || (a < count && set[a].Sym.Start <= starts[b])) merged[k++] = set[a++];
            else
            {
                ref var r = ref pass[idx[b++]];
                merged[k].Sym = r;
                merged[k++].End = r.Start + r.Size;
            }
        }
        return merged;
    }

    private static void FixupEnd(Node[] set, int count)
    {
        for (int i = 0; i + 1 < count; i++)
        {
            ref var s = ref set[i];
            if (s.End == s.Sym.Start) s.End = set[i + 1].Sym.Start;
        }
        if (count > 0)
        {
            ref var last = ref set[count - 1];
            if (last.End == last.Sym.Start) last.End = ((last.Sym.Start + 4095) & ~4095UL) + 4096;
        }
    }

    // Keeps one node per start (perf's pairwise tournament in tree order); returns the new count.
    private int FixupDuplicate(Node[] set, int count, Func<string, string>? nameForm)
    {
        int w = 0;
        for (int i = 0; i < count;)
        {
            int best = i, j = i + 1;
            for (; j < count && set[j].Sym.Start == set[i].Sym.Start; j++)
                if (!KeepFirst(in set[best], in set[j], nameForm)) best = j;
            set[w++] = set[best];
            i = j;
        }
        return w;
    }

    /// <summary>perf's <c>choose_best_symbol(a, b) == SYMBOL_A</c>.</summary>
    private bool KeepFirst(in Node a, in Node b, Func<string, string>? nameForm)
    {
        bool ea = a.End == a.Sym.Start, eb = b.End == b.Sym.Start;
        if (ea != eb) return !ea;
        bool wa = a.Sym.Bind == 2, wb = b.Sym.Bind == 2;
        if (wa != wb) return !wa;
        bool ga = a.Sym.Bind == 1, gb = b.Sym.Bind == 1;
        if (ga != gb) return ga;
        var ra = NameBytes(a.Sym.Source, a.Sym.NameOffset);
        var rb = NameBytes(b.Sym.Source, b.Sym.NameOffset);
        if (ra.SequenceEqual(rb)) return true; // the same symbol from .symtab and .dynsym
        if (nameForm == null)
        {
            int ua = LeadingUnderscores(ra), ub = LeadingUnderscores(rb);
            if (ua != ub) return ua < ub;
            return ra.Length >= rb.Length;
        }
        string na = nameForm(Decode(a.Sym.Source, a.Sym.NameOffset)), nb = nameForm(Decode(b.Sym.Source, b.Sym.NameOffset));
        int da = LeadingUnderscores(na), db = LeadingUnderscores(nb);
        if (da != db) return da < db;
        return System.Text.Encoding.UTF8.GetByteCount(na) >= System.Text.Encoding.UTF8.GetByteCount(nb); // strlen
    }

    private static int LeadingUnderscores(ReadOnlySpan<char> s)
    {
        int n = 0;
        while (n < s.Length && s[n] == '_') n++;
        return n;
    }

    private static int LeadingUnderscores(ReadOnlySpan<byte> s)
    {
        int n = 0;
        while (n < s.Length && s[n] == '_') n++;
        return n;
    }

    private ReadOnlySpan<byte> NameBytes(byte source, uint offset)
    {
        var t = _strtabs[source];
        long at = t.Offset + offset;
        return t.Bytes.Span(at, t.Bytes.CStringLength(at, t.Offset + t.Size));
    }

    private string Decode(byte source, uint offset)
    {
        var t = _strtabs[source];
        return t.Bytes.CString(t.Offset + offset, t.Offset + t.Size);
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
            if (address < _ends[k] || (address == _starts[k] && _ends[k] == _starts[k])) return k;
        return -1;
    }

    public ulong StartAt(int i) => _starts[i];
    public ulong SizeAt(int i) => _ends[i] - _starts[i];
    public bool IsFunctionAt(int i) => _functions[i];

    public string NameAt(int i) => _names[i] ??= Decode(_sources[i], _nameOffsets[i]);
}
