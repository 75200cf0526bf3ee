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
/// (<c>tools/perf/util/symbol-elf.c</c> <c>dso__load_sym</c> and <c>tools/perf/util/symbol.c</c>), in a red-black tree
/// of the same shape as perf's (<see cref="PerfSymbolTree"/>):
/// <list type="number">
/// <item>Symbols come in passes (a file's <c>.symtab</c>, then its <c>.dynsym</c>). Each pass is inserted in
/// symbol-table order into the tree after what is already there (equal starts go right, after the others, as perf's
/// <c>symbols__insert</c> does), then two fix-ups run over the whole set, as at the end of
/// <c>dso__load_sym_internal</c>:</item>
/// <item><c>symbols__fixup_end</c>: a symbol whose end equals its start (zero <c>st_size</c>) ends where the next
/// symbol in the set starts, whatever section that one is in (so a zero-size alias followed by another symbol at the
/// same address stays empty); the last symbol, if still empty, ends at <c>roundup(start, 4096) + 4096</c>.</item>
/// <item><c>symbols__fixup_duplicate</c>: among symbols with the same start, one is kept by
/// <c>choose_best_symbol</c>: a non-empty extent, then not WEAK, then GLOBAL (only <c>STB_GLOBAL</c>: GNU_UNIQUE
/// counts as not global), then fewer leading underscores, then the longer name; on a full tie the earlier one stays
/// (x86's <c>arch__choose_best_symbol</c> keeps the first). Names are compared as displayed (perf compares the
/// demangled names), through the name form given to the constructor. The kept symbol keeps its own extent. Losers
/// are erased from the tree one by one, left to right, as perf erases them (the erasures shape the tree).</item>
/// <item>Synthesized entries (perf's <c>name@plt</c>) are inserted last, in the order given, when the passes
/// inserted at least one symbol (perf synthesizes them only when <c>dso__load_sym</c> returned a positive count).</item>
/// <item>Lookup is perf's <c>symbols__find</c>: the first node on the search path whose extent holds the address
/// (an empty extent holds only its start). Where extents overlap this need not be the nearest symbol below the
/// address, and can be none although a symbol holds it.</item>
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
    private readonly PerfSymbolTree? _tree;
    private readonly int[] _indexOfNode = [];

    public static readonly SymbolTable Empty = new([], [], null, null);

    public int Count => _starts.Length;

    /// <param name="passes">Symbols of each pass, each in symbol-table order.</param>
    /// <param name="strtabs">String tables the symbols' <see cref="RawSymbol.Source"/> index.</param>
    /// <param name="nameForm">Maps a raw name to the displayed one for the underscore and length comparisons
    /// (demangling), or null to compare raw names.</param>
    /// <param name="synthesized">Named ranges added after the fix-ups, in perf's insertion order, as perf adds its
    /// <c>name@plt</c> symbols (<c>dso__synthesize_plt_symbols</c>, run after <c>dso__load_sym</c>): they neither end
    /// zero-size symbols nor take part in alias choice; a size of 0 is an empty extent.</param>
    public SymbolTable(IReadOnlyList<RawSymbol[]> passes, ElfStringTable[] strtabs, Func<string, string>? nameForm,
        IReadOnlyList<(ulong Start, ulong Size, string Name)>? synthesized)
    {
        _strtabs = strtabs;
        int total = synthesized?.Count ?? 0;
        foreach (var pass in passes) total += pass.Length;
        var raw = new RawSymbol[total];
        var extraName = new string?[total];
        int inserted = 0;
        if (total > 0)
        {
            var tree = new PerfSymbolTree(total);
            foreach (var pass in passes)
            {
                if (pass.Length == 0) continue;
                foreach (var sym in pass) raw[tree.Add(sym.Start, sym.Start + sym.Size)] = sym;
                inserted += pass.Length;
                var order = tree.InOrder();
                FixupEnd(tree, order);
                FixupDuplicate(tree, order, raw, nameForm);
            }
            if (inserted > 0 && synthesized != null)
                foreach (var (start, size, name) in synthesized)
                {
                    int id = tree.Add(start, start + size);
                    raw[id] = new RawSymbol { Start = start, Size = size };
                    extraName[id] = name;
                }
            _tree = tree;
        }
        var final = _tree?.InOrder() ?? [];
        int n = final.Count;
        _starts = new ulong[n];
        _ends = new ulong[n];
        _nameOffsets = new uint[n];
        _sources = new byte[n];
        _functions = new bool[n];
        _names = new string?[n];
        _indexOfNode = new int[total];
        for (int i = 0; i < n; i++)
        {
            int id = final[i];
            _indexOfNode[id] = i;
            _starts[i] = _tree!.Start(id);
            _ends[i] = _tree.End(id);
            if (extraName[id] is { } name) { _names[i] = name; continue; }
            _nameOffsets[i] = raw[id].NameOffset;
            _sources[i] = raw[id].Source;
            _functions[i] = raw[id].IsFunction;
        }
    }

    private static void FixupEnd(PerfSymbolTree tree, List<int> order)
    {
        for (int i = 0; i + 1 < order.Count; i++)
            if (tree.End(order[i]) == tree.Start(order[i])) tree.SetEnd(order[i], tree.Start(order[i + 1]));
        if (order.Count > 0)
        {
            int last = order[^1];
            if (tree.End(last) == tree.Start(last)) tree.SetEnd(last, ((tree.Start(last) + 4095) & ~4095UL) + 4096);
        }
    }

    // Keeps one node per start (perf's pairwise tournament in tree order), erasing each loser as perf does.
    private void FixupDuplicate(PerfSymbolTree tree, List<int> order, RawSymbol[] raw, Func<string, string>? nameForm)
    {
        for (int i = 0; i < order.Count;)
        {
            int best = order[i], j = i + 1;
            for (; j < order.Count && tree.Start(order[j]) == tree.Start(best); j++)
            {
                int next = order[j];
                if (KeepFirst(raw[best], tree.End(best), raw[next], tree.End(next), nameForm)) tree.Remove(next);
                else { tree.Remove(best); best = next; }
            }
            i = j;
        }
    }

    /// <summary>perf's <c>choose_best_symbol(a, b) == SYMBOL_A</c>.</summary>
    private bool KeepFirst(in RawSymbol a, ulong aEnd, in RawSymbol b, ulong bEnd, Func<string, string>? nameForm)
    {
        bool ea = aEnd == a.Start, eb = bEnd == b.Start;
        if (ea != eb) return !ea;
        bool wa = a.Bind == 2, wb = b.Bind == 2;
        if (wa != wb) return !wa;
        bool ga = a.Bind == 1, gb = b.Bind == 1;
        if (ga != gb) return ga;
        var ra = NameBytes(a.Source, a.NameOffset);
        var rb = NameBytes(b.Source, b.NameOffset);
        if (ra.SequenceEqual(rb)) return true; // the same symbol from .symtab and .dynsym
        if (nameForm == null)
        {
            int ua = LeadingUnderscores(ra), ub = LeadingUnderscores(rb);
            if (ua != ub) return ua < ub;
            return ra.Length >= rb.Length;
        }
        string na = nameForm(Decode(a.Source, a.NameOffset)), nb = nameForm(Decode(b.Source, b.NameOffset));
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

    /// <summary>Index of the symbol perf's <c>symbols__find</c> returns for <paramref name="address"/>, or -1.</summary>
    public int IndexOf(ulong address)
    {
        int id = _tree?.Find(address) ?? -1;
        return id < 0 ? -1 : _indexOfNode[id];
    }

    public ulong StartAt(int i) => _starts[i];
    public ulong SizeAt(int i) => _ends[i] - _starts[i];
    public bool IsFunctionAt(int i) => _functions[i];

    public string NameAt(int i) => _names[i] ??= Decode(_sources[i], _nameOffsets[i]);
}
