using System.Diagnostics.CodeAnalysis;

namespace XenProf.Sampler.Store;

/// <summary>
/// A read-only map from a store row id to its row, held in an array indexed by the id: the store hands out ids
/// 1, 2, 3… (SQLite's <c>INTEGER PRIMARY KEY</c>, never reused), so the stack nodes and frames of a system-wide session
/// (millions of rows) fill it in one sequential pass without hashing, and a lookup is one array read. Enumeration is in
/// id order. <see cref="FromRows"/> falls back to a hash map when the ids are sparse.
/// </summary>
/// <typeparam name="TKey">The id type (<see cref="FrameId"/>, <see cref="StackId"/>).</typeparam>
/// <typeparam name="TValue">The row type.</typeparam>
public sealed class IdMap<TKey, TValue> : IReadOnlyDictionary<TKey, TValue> where TKey : struct
{
    private readonly TValue[] _values;
    private readonly bool[] _present;
    private readonly Func<TKey, long> _index;
    private readonly Func<long, TKey> _key;

    /// <summary>An empty map for ids 0 to <paramref name="maxId"/> (inclusive).</summary>
    internal IdMap(long maxId, Func<TKey, long> index, Func<long, TKey> key)
    {
        _values = new TValue[maxId + 1];
        _present = new bool[maxId + 1];
        _index = index;
        _key = key;
    }

    /// <summary>
    /// The map of <paramref name="rows"/> (id, row), ids between 0 and <paramref name="maxId"/>: the array form when
    /// there are at least a quarter as many rows as ids, else a <see cref="Dictionary{TKey, TValue}"/>. Rows of ids
    /// beyond <paramref name="maxId"/> are left out (a writer added them after the size was read; no row read before
    /// names them).
    /// </summary>
    internal static IReadOnlyDictionary<TKey, TValue> FromRows(long maxId, long count, Func<TKey, long> index, Func<long, TKey> key,
        IEnumerable<(long Id, TValue Row)> rows)
    {
        if (maxId > 4 * count + 1024)
        {
            var d = new Dictionary<TKey, TValue>((int)Math.Min(count, int.MaxValue / 2));
            foreach (var (id, row) in rows) if ((ulong)id <= (ulong)maxId) d[key(id)] = row;
            return d;
        }
        var map = new IdMap<TKey, TValue>(maxId, index, key);
        foreach (var (id, row) in rows) map.Set(id, row);
        return map;
    }

    /// <summary>Sets the row of id <paramref name="id"/>; an id beyond the map's last is left out.</summary>
    internal void Set(long id, TValue row)
    {
        if ((ulong)id >= (ulong)_values.Length) return;
        if (!_present[id]) Count++;
        _values[id] = row;
        _present[id] = true;
    }

    /// <inheritdoc/>
    public TValue this[TKey key] => TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"no row with id {_index(key)}");

    /// <inheritdoc/>
    public int Count { get; private set; }

    /// <inheritdoc/>
    public IEnumerable<TKey> Keys
    {
        get
        {
            for (long i = 0; i < _present.Length; i++)
                if (_present[i]) yield return _key(i);
        }
    }

    /// <inheritdoc/>
    public IEnumerable<TValue> Values
    {
        get
        {
            for (long i = 0; i < _present.Length; i++)
                if (_present[i]) yield return _values[i];
        }
    }

    /// <inheritdoc/>
    public bool ContainsKey(TKey key)
    {
        long i = _index(key);
        return (ulong)i < (ulong)_present.Length && _present[i];
    }

    /// <inheritdoc/>
    public bool TryGetValue(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        long i = _index(key);
        if ((ulong)i < (ulong)_present.Length && _present[i])
        {
            value = _values[i];
            return true;
        }
        value = default;
        return false;
    }

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<TKey, TValue>> GetEnumerator()
    {
        for (long i = 0; i < _present.Length; i++)
            if (_present[i]) yield return new KeyValuePair<TKey, TValue>(_key(i), _values[i]);
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
