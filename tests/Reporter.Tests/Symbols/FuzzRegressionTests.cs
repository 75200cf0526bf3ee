using XenProf.Reporter.Symbols;
using Xunit;

namespace XenProf.Reporter.Tests.Symbols;

/// <summary>Inputs fuzzing found (Data/fuzz, with SOURCES.md): each now gives a result plus a counted problem.</summary>
public sealed class FuzzRegressionTests
{
    private static string Data(string name) => Path.Combine(AppContext.BaseDirectory, "Data", "fuzz", name);

    [Fact]
    public void JitDump_TotalSizeNearTheLimit_InATinyFile_AllocatesNoHugeBuffer()
    {
        var bytes = File.ReadAllBytes(Data("jitdump-total-size-near-limit.dump"));
        long before = GC.GetAllocatedBytesForCurrentThread();
        using var reader = new JitDumpReader(new MemoryStream(bytes), "jit.dump");
        var records = reader.ReadAll().ToList();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes for a {bytes.Length}-byte file");
        Assert.NotEmpty(records);
        var p = Assert.Single(reader.Problems);
        Assert.Contains("offset 0xad: JIT_CODE_UNWINDING_INFO: file ends", p.Message);
        Assert.Equal(bytes.Length, reader.Position);
    }
}
