using XenProf.Hypervisor.Binary;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.Fuzz.Tests;

/// <summary>
/// The short fuzz run of every parser, in-process and without afl (fuzz/run.sh is the long, coverage-guided one): the
/// seed corpus of fuzz/corpus/PARSER plus a few thousand havoc mutations; only <see cref="MalformedDataException"/>
/// may escape a harness, and no input may take seconds.
/// </summary>
public sealed class HarnessTests(ITestOutputHelper output)
{
    private static string Corpus(string parser)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            var c = Path.Combine(d.FullName, "fuzz", "corpus", parser);
            if (Directory.Exists(c)) return c;
        }
        throw new DirectoryNotFoundException($"fuzz/corpus/{parser} not found above {AppContext.BaseDirectory}");
    }

    public static IEnumerable<object[]> Parsers() => Harnesses.All.Keys.Select(k => new object[] { k });

    [Theory]
    [MemberData(nameof(Parsers))]
    public void SeedsAndMutations_OnlyMalformedDataEscapes(string parser)
    {
        var seeds = Directory.GetFiles(Corpus(parser)).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList();
        Assert.NotEmpty(seeds);
        // The nettrace harness goes through TraceEvent and a session store, about 2 s for a whole trace: it mutates only the
        // cut 4 KiB seed, a few dozen times (the whole one runs once in EverySeedIsAcceptedOrRejectedAsMalformed).
        int mutations = 2500;
        if (parser == "nettrace") { seeds = seeds.Where(s => s.Length <= 64 * 1024).ToList(); mutations = 40; }
        var report = Mutator.Run(Harnesses.All[parser], seeds, mutations, seed: 17);
        output.WriteLine($"{parser}: {report.Executions} executions, {report.Malformed} malformed");
        Assert.Equal(seeds.Count + mutations, report.Executions);
        Assert.True(report.Findings.Count == 0,
            string.Join("\n", report.Findings.Take(3).Select(f => $"{f.Exception.GetType().Name}: {f.Exception.Message} ({f.Input.Length} bytes)\n{f.Exception.StackTrace}")));
    }

    [Theory]
    [MemberData(nameof(Parsers))]
    public void EverySeedIsAcceptedOrRejectedAsMalformed(string parser)
    {
        // Seeds are real or generated inputs: each parses, or (quipper's malformed perf.data PoCs, a cut nettrace) is
        // rejected with the malformed-input exception naming where.
        foreach (var file in Directory.GetFiles(Corpus(parser)))
        {
            var o = Mutator.RunOne(Harnesses.All[parser], File.ReadAllBytes(file));
            Assert.True(o == null || o.Expected, $"{file}: {o?.Exception}");
        }
    }

    [Fact]
    public void Mutator_IsDeterministicForASeed()
    {
        var pool = new List<byte[]> { "app 1/1 [000] 1.0: cycles:\n\t401000 main (/bin/app)\n"u8.ToArray() };
        var a = Mutator.Mutate(pool[0], pool, new Random(3));
        var b = Mutator.Mutate(pool[0], pool, new Random(3));
        Assert.Equal(a, b);
    }
}
