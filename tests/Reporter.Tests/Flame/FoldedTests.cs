using XenProf.Reporter.Profile;
using System.Text;
using XenProf.Reporter.Flame;
using Xunit;
using static XenProf.Reporter.Tests.Flame.FlameTestData;

namespace XenProf.Reporter.Tests.Flame;

public class FoldedTests
{
    private static string Fold(IEnumerable<FlameStack> stacks, bool annotate = false)
    {
        var sw = new StringWriter();
        FoldedWriter.Write(stacks, sw, new FoldedOptions { AnnotateKernel = annotate });
        return sw.ToString();
    }

    [Fact]
    public void Writes_sorted_merged_lines_without_annotations_by_default()
    {
        const string expected =
            "bash;main;readline 2\n" +
            "domain1-kernel;schedule 2\n" +
            "java;GC Thread;collect 1\n" +
            "java;main;Foo.run 3\n" +
            "java;main;Foo.run;sys_write 6\n" +
            "xen;do_softirq 4\n";
        Assert.Equal(expected, Fold(Small()));
    }

    [Fact]
    public void Annotates_kernel_jit_hypervisor_and_guest_frames()
    {
        const string expected =
            "bash;main;readline 2\n" +
            "domain1-kernel;schedule_[g] 2\n" +
            "java;GC Thread;collect 1\n" +
            "java;main;Foo.run_[j] 3\n" +
            "java;main;Foo.run_[j];sys_write_[k] 6\n" +
            "xen;do_softirq_[h] 4\n";
        Assert.Equal(expected, Fold(Small(), annotate: true));
    }

    [Fact]
    public void Round_trips_kinds_through_the_reader()
    {
        string text = Fold(Small(), annotate: true);
        var back = FoldedReader.Read(new StringReader(text)).ToList();
        Assert.Equal(6, back.Count);
        var javaKernel = back.Single(s => s.Count == 6);
        Assert.Equal([P("java"), U("main"), J("Foo.run"), K("sys_write")], javaKernel.Frames);
        Assert.Equal([P("xen"), H("do_softirq")], back.Single(s => s.Count == 4).Frames);
        Assert.Equal([P("domain1-kernel"), G("schedule")], back[1].Frames);
        Assert.Equal(text, Fold(back, annotate: true));
    }

    [Fact]
    public void Sanitizes_separators_and_line_breaks_in_names()
    {
        var stacks = new[] { S(7, P("a;b"), U("line1\nline2\r\nend"), U("x y")) };
        string text = Fold(stacks);
        Assert.Equal("a:b;line1 line2  end;x y 7\n", text);
        var back = FoldedReader.Read(new StringReader(text)).Single();
        Assert.Equal(["a:b", "line1 line2  end", "x y"], back.Frames.Select(f => f.Name));
        Assert.Equal(7, back.Count);
    }

    [Fact]
    public void Sorts_in_utf8_byte_order_not_utf16_order()
    {
        // U+1F600 (a surrogate pair in UTF-16) sorts after U+FF21 in UTF-8 byte order.
        var stacks = new[] { S(1, P("p"), U("\U0001F600")), S(1, P("p"), U("\uFF21")), S(1, P("p"), U("p")) };
        Assert.Equal("p;p 1\np;\uFF21 1\np;\U0001F600 1\n", Fold(stacks));
    }

    [Fact]
    public void Reader_recovers_kinds_and_keeps_other_suffixes()
    {
        var s = FoldedReader.Read(new StringReader("perl;foo_[i];bar_[k];baz_[j];qux_[w] 12\r\n\n   \n")).Single();
        Assert.Equal([P("perl"), U("foo_[i]"), K("bar"), J("baz"), U("qux_[w]")], s.Frames);
        Assert.Equal(12, s.Count);
    }

    [Theory]
    [InlineData("a;b 1\nnocount\n", 2)]
    [InlineData("a;b 1\n\na;b -3\n", 3)]
    [InlineData("a;b 1.5\n", 1)]
    [InlineData("a;b 1\n 4\n", 2)]
    [InlineData("a;b x\n", 1)]
    [InlineData("a;b 99999999999999999999\n", 1)]
    public void Reader_rejects_bad_lines_naming_the_line(string text, int line)
    {
        var e = Assert.Throws<FormatException>(() => FoldedReader.Read(new StringReader(text)).ToList());
        Assert.StartsWith($"folded line {line}:", e.Message);
    }

    [Theory]
    [InlineData("perf-java-stacks-01-collapsed-all.txt")]
    [InlineData("perf-numa-stacks-01-collapsed-all.txt")]
    public void Reproduces_stackcollapse_output_byte_for_byte(string file)
    {
        byte[] original = File.ReadAllBytes(DataPath(file));
        var stacks = FoldedReader.Read(new StringReader(Encoding.UTF8.GetString(original))).ToList();
        Assert.NotEmpty(stacks);
        Assert.All(stacks, s => Assert.Equal(FrameKind.Process, s.Frames[0].Kind));
        Assert.Contains(stacks, s => s.Frames.Any(f => f.Kind == FrameKind.Kernel));

        // Write in a shuffled order to prove the writer sorts.
        var shuffled = stacks.OrderBy(s => s.ToString().GetHashCode(StringComparison.Ordinal)).ToList();
        byte[] written = Encoding.UTF8.GetBytes(Fold(shuffled, annotate: true));
        Assert.Equal(original, written);
    }

    [Fact]
    public void Stack_rejects_misuse()
    {
        Assert.Throws<ArgumentException>(() => new FlameStack([], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FlameStack([P("a")], -1));
        Assert.Throws<ArgumentNullException>(() => FoldedWriter.Write(null!, new StringWriter(), null));
    }
}
