namespace XenProf.Sampler.Store;

public sealed partial class SessionStore
{
    /// <summary><c>meta</c> key naming the symbolizer configuration the symbol cache was made with.</summary>
    public const string SymbolCacheKey = "symbol_cache";
    /// <summary><c>meta</c> key holding the warnings the symbolizer gave while filling the cache, one per line.</summary>
    public const string SymbolCacheWarningsKey = "symbol_cache_warnings";

    /// <summary>
    /// Replaces the symbol cache with <paramref name="symbols"/>, made by a symbolizer configured as
    /// <paramref name="configuration"/> (readers use the cache only when theirs is the same), and the warnings it gave.
    /// </summary>
    public void WriteSymbolCache(IEnumerable<CachedSymbol> symbols, string configuration, IEnumerable<string> warnings)
    {
        RequireWritable();
        Exec("DELETE FROM symbol_cache");
        using (var c = Prepare("INSERT INTO symbol_cache(image_id, offset, name, located, start, size, address) VALUES ($i,$o,$n,$l,$s,$z,$a)",
                   "$i", "$o", "$n", "$l", "$s", "$z", "$a"))
        {
            var p = c.Parameters;
            foreach (var s in symbols)
            {
                p[0].Value = s.Image.Value; p[1].Value = unchecked((long)s.Offset); p[2].Value = (object?)s.Name ?? DBNull.Value;
                p[3].Value = s.Located ? 1 : 0; p[4].Value = unchecked((long)s.Start); p[5].Value = unchecked((long)s.Size);
                p[6].Value = unchecked((long)s.Address);
                Write(c);
            }
        }
        SetMeta(SymbolCacheWarningsKey, string.Join('\n', warnings));
        SetMeta(SymbolCacheKey, configuration);
    }

    /// <summary>Whether the store has a symbol cache made with <paramref name="configuration"/> (<see cref="ReadSymbolCache"/> gives it).</summary>
    public bool HasSymbolCache(string configuration) =>
        ScalarString($"SELECT value FROM meta WHERE key='{SymbolCacheKey}'") == configuration;

    /// <summary>
    /// The symbol cache keyed by (image, offset), or null when the store has none or it was made with another
    /// symbolizer configuration than <paramref name="configuration"/>.
    /// </summary>
    public IReadOnlyDictionary<(ImageId Image, ulong Offset), CachedSymbol>? ReadSymbolCache(string configuration)
    {
        if (!HasSymbolCache(configuration)) return null;
        var d = new Dictionary<(ImageId, ulong), CachedSymbol>(CountRows("symbol_cache"));
        // Names repeat (one per function, over every frame in it): each distinct name is one string.
        var names = new HashSet<string>(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        using var r = Rows("SELECT image_id, offset, name, located, start, size, address FROM symbol_cache");
        while (r.Step())
        {
            var s = new CachedSymbol(new ImageId(r.Int64(0)), unchecked((ulong)r.Int64(1)), r.Text(2, names),
                r.Int64(3) != 0, unchecked((ulong)r.Int64(4)), unchecked((ulong)r.Int64(5)), unchecked((ulong)r.Int64(6)));
            d[(s.Image, s.Offset)] = s;
        }
        return d;
    }
}
