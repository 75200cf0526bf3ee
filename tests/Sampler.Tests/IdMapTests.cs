using XenProf.Sampler.Store;
using Xunit;

namespace XenProf.Sampler.Tests;

/// <summary>The id-indexed maps a store's frames and stack nodes are read into.</summary>
public sealed class IdMapTests
{
    private static IEnumerable<(long, string)> Rows(params long[] ids) => ids.Select(i => (i, $"row {i}"));

    [Fact]
    public void Dense_ids_are_an_array_in_id_order_and_later_ids_are_left_out()
    {
        var m = IdMap<FrameId, string>.FromRows(5, 4, k => k.Value, v => new FrameId(v), Rows(5, 1, 3, 2, 9, -1));
        Assert.IsType<IdMap<FrameId, string>>(m);
        Assert.Equal(4, m.Count);
        Assert.Equal([1L, 2, 3, 5], m.Keys.Select(k => k.Value));
        Assert.Equal("row 3", m[new FrameId(3)]);
        Assert.False(m.ContainsKey(new FrameId(4)));
        Assert.False(m.TryGetValue(new FrameId(9), out _));
        Assert.False(m.TryGetValue(new FrameId(-1), out _));
        Assert.Throws<KeyNotFoundException>(() => m[new FrameId(4)]);
    }

    [Fact]
    public void Sparse_ids_fall_back_to_a_hash_map_with_the_same_rows()
    {
        var m = IdMap<FrameId, string>.FromRows(1_000_000, 2, k => k.Value, v => new FrameId(v), Rows(7, 1_000_000, 2_000_000));
        Assert.IsType<Dictionary<FrameId, string>>(m);
        Assert.Equal(2, m.Count);
        Assert.Equal("row 1000000", m[new FrameId(1_000_000)]);
        Assert.False(m.ContainsKey(new FrameId(2_000_000)));
    }

    [Fact]
    public void Stack_nodes_keep_parent_and_frame_and_refuse_a_damaged_row()
    {
        var n = new StackNodes(4);
        n.Set(1, 0, 10);
        n.Set(2, 1, 11);
        n.Set(4, 2, 12);
        n.Set(5, 4, 13);
        Assert.Equal(3, n.Count);
        Assert.Equal(new StoredStack(new StackId(4), new StackId(2), new FrameId(12)), n[new StackId(4)]);
        Assert.Equal([1L, 2, 4], n.Keys.Select(k => k.Value));
        Assert.False(n.ContainsKey(new StackId(3)));
        Assert.False(n.ContainsKey(new StackId(5)));
        Assert.Throws<StoreException>(() => n.Set(3, 1, 1L << 33));
    }
}
