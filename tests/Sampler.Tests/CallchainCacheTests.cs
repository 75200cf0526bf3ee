using XenProf.Sampler.Attribution;
using XenProf.Sampler.Store;
using Xunit;

namespace XenProf.Sampler.Tests;

public sealed class CallchainCacheTests
{
    [Fact]
    public void FindsEveryChainItWasGiven_AcrossGrowthAndPerPidInvalidation()
    {
        var c = new CallchainCache();
        var rng = new Random(7);
        var chains = new List<(int Pid, ulong Ip, ulong[] Chain)>();
        for (int i = 0; i < 20_000; i++)
        {
            var chain = new ulong[rng.Next(0, 12)];
            for (int k = 0; k < chain.Length; k++) chain[k] = (ulong)rng.NextInt64();
            chains.Add((i % 50, (ulong)i, chain));
            c.Add(i % 50, (ulong)i, SampleMode.User, chain, new StackId(i + 1), i % 3 != 0);
        }
        for (int i = 0; i < chains.Count; i++)
        {
            var (pid, ip, chain) = chains[i];
            Assert.True(c.TryGet(pid, ip, SampleMode.User, chain, out var stack, out var mapped));
            Assert.Equal((new StackId(i + 1), i % 3 != 0), (stack, mapped));
            Assert.False(c.TryGet(pid, ip, SampleMode.Kernel, chain, out _, out _));       // another mode
            Assert.False(c.TryGet(pid + 100, ip, SampleMode.User, chain, out _, out _));   // another process
        }
        c.Invalidate(7);
        Assert.False(c.TryGet(7, 7, SampleMode.User, chains[7].Chain, out _, out _));
        Assert.True(c.TryGet(8, 8, SampleMode.User, chains[8].Chain, out _, out _));
        c.InvalidateAll();
        Assert.False(c.TryGet(8, 8, SampleMode.User, chains[8].Chain, out _, out _));
    }

    [Fact]
    public void StartsOverWhenItsChainsOutgrowTheBound()
    {
        var c = new CallchainCache();
        var big = new ulong[CallchainCache.MaxAddresses / 8];
        for (int i = 0; i < 9; i++)
        {
            big[0] = (ulong)i;
            c.Add(1, 0, SampleMode.User, big, new StackId(i + 1), true);
        }
        big[0] = 8;
        Assert.True(c.TryGet(1, 0, SampleMode.User, big, out var last, out _));   // the newest survives the restart
        Assert.Equal(new StackId(9), last);
        big[0] = 0;
        Assert.False(c.TryGet(1, 0, SampleMode.User, big, out _, out _));         // the oldest went with it
    }
}
