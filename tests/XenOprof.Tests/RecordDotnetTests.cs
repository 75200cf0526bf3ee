using System.Globalization;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.XenOprof.Tests;

/// <summary>
/// <c>record --dotnet -- burner</c>: perf_event sampling of the .NET burner with an EventPipe session beside it; the
/// session's report names the managed methods (Burner.Hot about three times Burner.Warm in the managed-code event),
/// and the perf_event samples of JIT code are named through the runtime's perf map (<c>/tmp/perf-PID.map</c>).
/// </summary>
[Collection(PerfCollection.Name)] // its .NET child writes /tmp/perf-PID.map while perf runs: kept apart from perf
public sealed class RecordDotnetTests(ITestOutputHelper output)
{
    [Fact]
    public void RecordDotnet_ManagedMethodsNamedBesidePerfEventSamples()
    {
        if (!Environment.IsPrivilegedProcess) { output.WriteLine("skipped: needs root for perf_event_open sampling (CI runs as root)"); return; }
        var (burner, why) = XenProf.Reporter.Tests.Symbols.DotnetBurner.Program;
        if (burner == null) { output.WriteLine("skipped: " + why); return; }
        var dir = Cli.NewSessionDir();
        try
        {
            var rec = Cli.Run("record", "--dotnet", "--session-dir", dir, "--", burner, "3");
            output.WriteLine(rec.Stderr);
            Assert.True(rec.ExitCode == 0, rec.Stderr);
            Assert.Contains("EventPipe samples of managed stacks added", rec.Stderr);
            Assert.True(File.Exists(Path.Combine(dir, "dotnet.nettrace")));
            var rep = Cli.Run("opreport", "-l", "--session-dir", dir);
            Assert.True(rep.ExitCode == 0, rep.Stderr);
            output.WriteLine(rep.Stdout);
            Assert.Contains("CPU_CLOCK", rep.Stdout);
            // Columns: CPU_CLOCK (samples % ±), THREAD_SAMPLE_MANAGED (samples % ±), THREAD_SAMPLE_EXTERNAL, image, symbol.
            long Managed(string symbol)
            {
                var line = rep.Stdout.Split('\n').Single(l => l.EndsWith(" " + symbol, StringComparison.Ordinal));
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3], CultureInfo.InvariantCulture);
            }
            long hot = Managed("Burner.Hot(int64)"), warm = Managed("Burner.Warm(int64)");
            // Enough samples for the ratio to mean something: a loaded machine runs the burner's threads less (346 and
            // 116 seen with two other builds running), an idle one gives about twice that.
            Assert.True(hot > 250 && warm > 80, $"Hot {hot}, Warm {warm}");
            Assert.InRange(hot / (double)warm, 2.2, 4.0);
            // The perf_event samples of JIT code are named too, by the runtime's perf map.
            long Clock(string method) => rep.Stdout.Split('\n')
                .Where(l => l.Contains(" /tmp/perf-", StringComparison.Ordinal) && l.Contains(method, StringComparison.Ordinal))
                .Sum(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture));
            long clockHot = Clock("Burner::Hot("), clockWarm = Clock("Burner::Warm(");
            Assert.True(clockHot > 500 && clockWarm > 150, $"CPU_CLOCK in JIT code: Hot {clockHot}, Warm {clockWarm}");
            Assert.InRange(clockHot / (double)clockWarm, 2.2, 4.0);

            // The runtime's jit-PID.dump carries the JIT code: opannotate disassembles Burner.Hot with its samples.
            var ann = Cli.Run("opannotate", "--assembly", "--session-dir", dir, "--include-symbols", "Burner::Hot(", "--image", "/tmp/perf-");
            Assert.True(ann.ExitCode == 0, ann.Stderr);
            output.WriteLine(ann.Stdout);
            Assert.DoesNotContain("cannot read its code", ann.Stdout);
            Assert.Contains("imul", ann.Stdout); // the loop's x * 6364136223846793005
        }
        finally
        {
            // The burner's JIT map and jitdump are this test's litter: remove them with the session.
            if (File.Exists(Path.Combine(dir, "samples.db")))
            {
                using (var store = XenProf.Sampler.Store.SessionStore.OpenRead(Path.Combine(dir, "samples.db")))
                {
                    Assert.Empty(store.Validate());
                    foreach (var image in store.ReadImages().Values.Where(i => i.Path.StartsWith("/tmp/perf-", StringComparison.Ordinal)))
                    {
                        File.Delete(image.Path);
                        if (XenProf.Reporter.Symbols.JitSymbols.JitDumpPathFor(image.Path) is { } dump) File.Delete(dump);
                    }
                }
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            }
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }
}
