using XenProf.Sampler.Store;

namespace XenProf.Sampler.Attribution;

/// <summary>An image mapped at runtime addresses [<see cref="Start"/>, <see cref="Limit"/>) with file offset <see cref="PgOff"/> (bytes).</summary>
public sealed record Mapping(ulong Start, ulong Limit, ulong PgOff, ImageId Image, ImageKind Kind, string Name)
{
    /// <summary>
    /// The frame offset stored for a runtime address inside this mapping: the file offset for ELF
    /// images (<c>addr − Start + PgOff</c>), the offset from the mapping start for the vDSO, and the raw
    /// address for anonymous memory (JIT maps are keyed by runtime address).
    /// </summary>
    public ulong FrameOffset(ulong address) => Kind switch
    {
        ImageKind.Elf => address - Start + PgOff,
        ImageKind.Vdso => address - Start,
        _ => address,
    };
}

/// <summary>
/// The user-space mappings of one process, kept sorted and non-overlapping: a new mapping replaces
/// whatever it overlaps (the kernel's own rule for <c>mmap</c> over an existing range).
/// </summary>
public sealed class AddressSpace
{
    private readonly List<Mapping> _maps = new();

    /// <summary>Mappings sorted by start address.</summary>
    public IReadOnlyList<Mapping> Mappings => _maps;

    /// <summary>Adds <paramref name="m"/>, trimming or removing mappings it overlaps.</summary>
    public void Add(Mapping m)
    {
        if (m.Limit <= m.Start) return;
        var result = new List<Mapping>(_maps.Count + 2);
        foreach (var old in _maps)
        {
            if (old.Limit <= m.Start || old.Start >= m.Limit) { result.Add(old); continue; }
            if (old.Start < m.Start) result.Add(old with { Limit = m.Start });
            if (old.Limit > m.Limit)
            {
                var cut = m.Limit - old.Start;
                result.Add(old with { Start = m.Limit, PgOff = old.Kind == ImageKind.Elf ? old.PgOff + cut : old.PgOff });
            }
        }
        result.Add(m);
        result.Sort((a, b) => a.Start.CompareTo(b.Start));
        _maps.Clear();
        _maps.AddRange(result);
    }

    /// <summary>Finds the mapping containing <paramref name="address"/>, or null.</summary>
    public Mapping? Find(ulong address)
    {
        int lo = 0, hi = _maps.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            var m = _maps[mid];
            if (address < m.Start) hi = mid - 1;
            else if (address >= m.Limit) lo = mid + 1;
            else return m;
        }
        return null;
    }

    /// <summary>Forgets every mapping (the process called exec).</summary>
    public void Clear() => _maps.Clear();

    /// <summary>A copy (a forked child starts with its parent's mappings).</summary>
    public AddressSpace Clone()
    {
        var c = new AddressSpace();
        c._maps.AddRange(_maps);
        return c;
    }
}
