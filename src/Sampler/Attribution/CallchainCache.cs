using XenProf.Sampler.Store;

namespace XenProf.Sampler.Attribution;

/// <summary>
/// Remembers which stack a raw sample (pid, IP, CPU mode, perf callchain) was attributed to, so a callchain seen
/// again costs one hash and one compare instead of a mapping lookup and an intern per frame. A profile of 1M samples
/// has a few thousand distinct callchains. Entries are valid for one state of the process's address space: any
/// mapping change of a pid (<see cref="Invalidate"/>) or of the kernel's (<see cref="InvalidateAll"/>) retires them.
/// Memory is bounded: past <see cref="MaxAddresses"/> stored callchain entries the cache starts over.
/// </summary>
internal sealed class CallchainCache
{
    /// <summary>Callchain entries (u64 each) kept before the cache is emptied: 4M entries = 32 MiB.</summary>
    public const int MaxAddresses = 4 << 20;

    private struct Entry
    {
        public ulong Hash, Ip;
        public int Pid, Generation, Start, Length;
        public SampleMode Mode;
        public StackId Stack;
        public bool LeafMapped;
    }

    // Open addressing over the entries: slot = entry index + 1 (0 empty), probed linearly from the hash's low bits.
    private int[] _slots = new int[4096];
    private readonly Dictionary<int, int> _generations = new();
    private Entry[] _entries = new Entry[1024];
    private int _count;
    private ulong[] _chains = new ulong[16384];
    private int _used;

    /// <summary>Forgets the callchains of <paramref name="pid"/> (its mappings changed).</summary>
    public void Invalidate(int pid)
    {
        ref var g = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_generations, pid, out _);
        g++;
    }

    /// <summary>Forgets every callchain (the kernel's or modules' mappings changed).</summary>
    public void InvalidateAll()
    {
        Clear();
    }

    private void Clear()
    {
        Array.Clear(_slots);
        _count = 0;
        _used = 0;
    }

    private int GenerationOf(int pid) => _generations.TryGetValue(pid, out var g) ? g : 0;

    private static ulong HashOf(int pid, int generation, ulong ip, SampleMode mode, ReadOnlySpan<ulong> chain)
    {
        // A multiply-rotate mix per u64 (the constants are the 64-bit golden ratio and an odd multiplier); the
        // entry is compared in full on a hit, so collisions cost a compare, never a wrong stack.
        ulong h = 0x9E3779B97F4A7C15UL ^ ((ulong)(uint)pid << 32 | (uint)generation) ^ ((ulong)mode << 56);
        h = (System.Numerics.BitOperations.RotateLeft(h ^ ip, 29) * 0xBF58476D1CE4E5B9UL);
        foreach (var a in chain) h = System.Numerics.BitOperations.RotateLeft(h ^ a, 29) * 0xBF58476D1CE4E5B9UL;
        return h ^ (h >> 31);
    }

    /// <summary>Looks up a callchain attributed before under the pid's current mappings.</summary>
    public bool TryGet(int pid, ulong ip, SampleMode mode, ReadOnlySpan<ulong> chain, out StackId stack, out bool leafMapped)
    {
        int gen = GenerationOf(pid);
        ulong h = HashOf(pid, gen, ip, mode, chain);
        int mask = _slots.Length - 1;
        for (int i = (int)h & mask; _slots[i] != 0; i = (i + 1) & mask)
        {
            ref var e = ref _entries[_slots[i] - 1];
            if (e.Hash == h && e.Pid == pid && e.Generation == gen && e.Ip == ip && e.Mode == mode && e.Length == chain.Length
                && chain.SequenceEqual(_chains.AsSpan(e.Start, e.Length)))
            {
                stack = e.Stack;
                leafMapped = e.LeafMapped;
                return true;
            }
        }
        stack = default;
        leafMapped = false;
        return false;
    }

    /// <summary>Remembers the stack a callchain was attributed to.</summary>
    public void Add(int pid, ulong ip, SampleMode mode, ReadOnlySpan<ulong> chain, StackId stack, bool leafMapped)
    {
        if (chain.Length > MaxAddresses / 4) return;
        if (_used + chain.Length > MaxAddresses) Clear();
        int gen = GenerationOf(pid);
        ulong h = HashOf(pid, gen, ip, mode, chain);
        if (_used + chain.Length > _chains.Length) Array.Resize(ref _chains, Math.Max(_chains.Length * 2, _used + chain.Length));
        chain.CopyTo(_chains.AsSpan(_used));
        if (_count == _entries.Length) Array.Resize(ref _entries, _count * 2);
        _entries[_count] = new Entry
        {
            Hash = h, Ip = ip, Pid = pid, Generation = gen, Start = _used, Length = chain.Length,
            Mode = mode, Stack = stack, LeafMapped = leafMapped,
        };
        _count++;
        _used += chain.Length;
        if (_count * 2 > _slots.Length) Rehash(_slots.Length * 2);
        else Place(_count - 1);
    }

    private void Place(int entry)
    {
        int mask = _slots.Length - 1;
        int i = (int)_entries[entry].Hash & mask;
        while (_slots[i] != 0) i = (i + 1) & mask;
        _slots[i] = entry + 1;
    }

    private void Rehash(int size)
    {
        _slots = new int[size];
        for (int e = 0; e < _count; e++) Place(e);
    }
}
