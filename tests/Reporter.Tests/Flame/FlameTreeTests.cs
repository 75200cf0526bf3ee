using XenProf.Reporter.Profile;
using XenProf.Reporter.Flame;
using Xunit;
using static XenProf.Reporter.Tests.Flame.FlameTestData;

namespace XenProf.Reporter.Tests.Flame;

public class FlameTreeTests
{
    [Fact]
    public void Merges_identical_prefixes_and_sums_counts()
    {
        var tree = FlameTree.Build(Small());
        Assert.Equal(18, tree.Total);
        Assert.Equal(FlameTree.RootName, tree.Root.Name);
        Assert.Equal(["bash", "domain1-kernel", "java", "xen"], tree.Root.Children.Select(c => c.Name));

        var java = tree.Root.Children[2];
        Assert.Equal(10, java.Total);
        Assert.Equal(0, java.Self);
        Assert.Equal(1, java.Depth);
        Assert.Equal(["GC Thread", "main"], java.Children.Select(c => c.Name));
        var run = java.Children[1].Children.Single();
        Assert.Equal(new FlameFrame("Foo.run", FrameKind.Jit), run.Frame);
        Assert.Equal(9, run.Total);
        Assert.Equal(3, run.Self);
        Assert.Equal(6, run.Children.Single().Total);
        Assert.Same(run, run.Children.Single().Parent);

        // all, bash, main, readline, domain1-kernel, schedule, java, GC Thread, collect, main, Foo.run, sys_write, xen, do_softirq
        Assert.Equal(14, tree.NodeCount);
        Assert.Equal(14, tree.Nodes().Count());
        Assert.Equal(4, tree.MaxDepth);
        Assert.All(tree.Nodes(), n => Assert.Equal(n.Total, n.Self + n.Children.Sum(c => c.Total)));
    }

    [Fact]
    public void Same_name_with_different_kind_is_a_different_frame()
    {
        var tree = FlameTree.Build([S(1, P("p"), U("f")), S(2, P("p"), K("f"))]);
        var kids = tree.Root.Children.Single().Children;
        Assert.Equal([FrameKind.User, FrameKind.Kernel], kids.Select(k => k.Frame.Kind));
    }

    [Fact]
    public void Child_orders()
    {
        FlameStack[] stacks = [S(1, P("p"), U("zeta")), S(5, P("p"), U("alpha")), S(3, P("p"), U("Mid"))];
        string Order(FlameChildOrder o) => string.Join(",", FlameTree.Build(stacks, o).Root.Children[0].Children.Select(c => c.Name));
        Assert.Equal("Mid,alpha,zeta", Order(FlameChildOrder.Alphabetical)); // byte order: upper case first
        Assert.Equal("zeta,alpha,Mid", Order(FlameChildOrder.FirstSeen));
        Assert.Equal("alpha,Mid,zeta", Order(FlameChildOrder.TotalDescending));
    }

    [Fact]
    public void Empty_input_gives_a_lone_root()
    {
        var tree = FlameTree.Build([]);
        Assert.Equal(0, tree.Total);
        Assert.Equal(1, tree.NodeCount);
        Assert.Equal(0, tree.MaxDepth);
        Assert.Empty(tree.Root.Children);
    }
}
