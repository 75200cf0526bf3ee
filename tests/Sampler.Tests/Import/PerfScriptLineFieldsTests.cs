using System.Text;
using XenProf.Sampler.Import.PerfScript;
using Xunit;

namespace XenProf.Sampler.Tests.Import;

/// <summary>
/// What the folder reads back from the lines perf script would print for a stored sample
/// (<see cref="PerfScriptCollapse.EventLineName"/>, <see cref="PerfScriptCollapse.FrameLineFields"/>), checked against
/// the folder itself on the same lines: folding from a session and folding perf script's text must agree.
/// </summary>
public sealed class PerfScriptLineFieldsTests
{
    [Theory]
    [InlineData("worker one", 10, 11, "worker one", "10", "11")]
    [InlineData("worker two 1", 10, 12, "worker two", "?", "1")]   // the lazy comm pattern stops before " 1 "
    [InlineData("main (proc) x", 10, 10, "main (proc) x", "10", "10")]
    [InlineData("V8 WorkerThread", 7, 9, "V8 WorkerThread", "7", "9")]
    [InlineData("ab 5/6 c", 1, 2, "ab", "5", "6")]
    [InlineData("x", 3, 4, "x", "3", "4")]                           // one character: read past, left whole
    public void EventLineName_IsWhatTheFolderReads(string comm, int pid, int tid, string wantComm, string wantPid, string wantTid)
    {
        Assert.Equal((wantComm, wantPid, wantTid), PerfScriptCollapse.EventLineName(comm, pid, tid));
        if (comm.Length < 2) return;
        // The folder's own reading of that event line (--tid prints comm-pid/tid).
        var text = $"{comm} {pid}/{tid} 1.000000: 1 cpu-clock:\n\t400000 main (/bin/app)\n\n";
        var folded = Fold(text, new CollapseOptions { Tid = true });
        Assert.Equal($"{wantComm.Replace(' ', '_')}-{wantPid}/{wantTid};main 1\n", folded);
    }

    [Theory]
    [InlineData("[unknown]", "/memfd:doublemapper (deleted)", "[unknown] (/memfd:doublemapper", "deleted)")]
    [InlineData("main", "/tmp/my prog", "main", "/tmp/my prog")]
    [InlineData("f(int)", "/bin/app", "f(int)", "/bin/app")]
    public void FrameLineFields_SplitAsTheFolderSplits(string rawfunc, string mod, string wantFunc, string wantMod)
    {
        Assert.Equal((wantFunc, wantMod), PerfScriptCollapse.FrameLineFields(rawfunc, mod));
        var fromText = Fold($"app 1/1 1.000000: 1 cpu-clock:\n\t400000 {rawfunc} ({mod})\n\n", new CollapseOptions());
        var frames = new List<string>();
        PerfScriptCollapse.AppendFrames(frames, "400000", wantFunc, wantMod, "app", new CollapseOptions());
        Assert.Equal(fromText, "app;" + string.Join(';', frames) + " 1\n");
    }

    private static string Fold(string text, CollapseOptions o)
    {
        var ms = new MemoryStream();
        PerfScriptCollapse.Collapse(new MemoryStream(Encoding.Latin1.GetBytes(text)), ms, o);
        return Encoding.Latin1.GetString(ms.ToArray());
    }
}
