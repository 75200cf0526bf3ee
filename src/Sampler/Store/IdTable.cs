namespace XenProf.Sampler.Store;

/// <summary>
/// An interning table from a pair of 64-bit keys to a positive id, as the store interns frames (image, offset) and
/// stack nodes (parent, frame): open addressing with linear probing over one array whose slots hold the keys and the
/// id together, so a lookup touches one slot (one cache line) where a <see cref="Dictionary{TKey,TValue}"/> touches
/// a bucket and then an entry. A trace with millions of stack nodes spends most of its import in these lookups.
/// Id 0 marks an empty slot, so ids must be positive. Grows at a load of 5/8 (capacity a power of two).
/// </summary>
internal sealed class IdTable
{
    private struct Slot
    {
        public ulong A, B;
        public long Id;
    }

    private Slot[] _slots = new Slot[1024];
    private int _mask = 1023;

    /// <summary>Number of keys held.</summary>
    public int Count { get; private set; }

    private static int Hash(ulong a, ulong b)
    {
        // A multiply-xorshift mix of both keys (the 64-bit golden ratio and splitmix64's multiplier), so sequential ids
        // and page-aligned offsets spread over the table.
        ulong h = (a * 0x9E3779B97F4A7C15UL) ^ b;
        h = (h ^ (h >> 31)) * 0xBF58476D1CE4E5B9UL;
        return (int)(h ^ (h >> 29));
    }

    /// <summary>The id of (<paramref name="a"/>, <paramref name="b"/>), or false when it is not held.</summary>
    public bool TryGet(ulong a, ulong b, out long id)
    {
        var slots = _slots;
        int mask = _mask;
        for (int i = Hash(a, b) & mask; ; i = (i + 1) & mask)
        {
            ref var s = ref slots[i];
            if (s.Id == 0) { id = 0; return false; }
            if (s.A == a && s.B == b) { id = s.Id; return true; }
        }
    }

    /// <summary>Adds (<paramref name="a"/>, <paramref name="b"/>) → <paramref name="id"/> (positive), or replaces the key's id.</summary>
    public void Set(ulong a, ulong b, long id)
    {
        if (id <= 0) throw new ArgumentOutOfRangeException(nameof(id), id, "interned ids are positive");
        if ((Count + 1) * 8L > _slots.Length * 5L) Grow();
        if (Place(_slots, _mask, a, b, id)) Count++;
    }

    private static bool Place(Slot[] slots, int mask, ulong a, ulong b, long id)
    {
        for (int i = Hash(a, b) & mask; ; i = (i + 1) & mask)
        {
            ref var s = ref slots[i];
            if (s.Id == 0) { s.A = a; s.B = b; s.Id = id; return true; }
            if (s.A == a && s.B == b) { s.Id = id; return false; }
        }
    }

    private void Grow()
    {
        var bigger = new Slot[_slots.Length * 2];
        int mask = bigger.Length - 1;
        foreach (ref var s in _slots.AsSpan())
            if (s.Id != 0) Place(bigger, mask, s.A, s.B, s.Id);
        _slots = bigger;
        _mask = mask;
    }
}
