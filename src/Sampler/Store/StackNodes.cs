using System.Diagnostics.CodeAnalysis;

namespace XenProf.Sampler.Store;

/// <summary>
/// The stack prefix tree of a session read back (<c>stacks</c>: id → parent id, frame id), held as two arrays of 32-bit
/// ids indexed by the node's id. Node ids are handed out 1, 2, 3… and never reused, so a system-wide session's millions
/// of nodes take 8 bytes each and fill in one sequential pass, where a hash map of <see cref="StoredStack"/> took about
/// 40 and a hash per insert. Enumeration is in id order.
/// </summary>
public sealed class StackNodes : IReadOnlyDictionary<StackId, StoredStack>
{
    private readonly int[] _parents;
    private readonly int[] _frames;
    private readonly bool[] _present;

    /// <summary>An empty tree for node ids 0 to <paramref name="maxId"/> (the store gives out 1 and up).</summary>
    internal StackNodes(int maxId)
    {
        _parents = new int[maxId + 1];
        _frames = new int[maxId + 1];
        _present = new bool[maxId + 1];
    }

    /// <summary>
    /// Sets node <paramref name="id"/>; a node beyond the tree's last id is left out (a writer added it after the size
    /// was read; no row read before names it). Throws <see cref="StoreException"/> for a parent or frame id outside
    /// 0..2^31−1 (a damaged store).
    /// </summary>
    internal void Set(long id, long parent, long frame)
    {
        if ((ulong)id >= (ulong)_frames.Length) return;
        if ((ulong)frame > int.MaxValue || (ulong)parent > int.MaxValue)
            throw new StoreException($"stack node {id}: parent {parent} or frame {frame} is outside 0..{int.MaxValue}; the store is damaged");
        if (!_present[id]) Count++;
        _present[id] = true;
        _parents[id] = (int)parent;
        _frames[id] = (int)frame;
    }

    /// <inheritdoc/>
    public StoredStack this[StackId key] => TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"no stack node with id {key.Value}");

    /// <inheritdoc/>
    public int Count { get; private set; }

    /// <inheritdoc/>
    public IEnumerable<StackId> Keys
    {
        get
        {
            for (int i = 0; i < _frames.Length; i++)
                if (_present[i]) yield return new StackId(i);
        }
    }

    /// <inheritdoc/>
    public IEnumerable<StoredStack> Values
    {
        get
        {
            for (int i = 0; i < _frames.Length; i++)
                if (_present[i]) yield return Node(i);
        }
    }

    private StoredStack Node(long i) => new(new StackId(i), new StackId(_parents[i]), new FrameId(_frames[i]));

    /// <inheritdoc/>
    public bool ContainsKey(StackId key) => (ulong)key.Value < (ulong)_frames.Length && _present[key.Value];

    /// <inheritdoc/>
    public bool TryGetValue(StackId key, [MaybeNullWhen(false)] out StoredStack value)
    {
        long i = key.Value;
        if ((ulong)i < (ulong)_frames.Length && _present[i])
        {
            value = Node(i);
            return true;
        }
        value = default;
        return false;
    }

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<StackId, StoredStack>> GetEnumerator()
    {
        for (int i = 0; i < _frames.Length; i++)
            if (_present[i]) yield return new KeyValuePair<StackId, StoredStack>(new StackId(i), Node(i));
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
