using XenProf.Reporter.Profile;
using XenProf.Reporter.Symbols;
using XenProf.Sampler.Store;
using Xunit;

namespace XenProf.Reporter.Tests.Symbols;

/// <summary>The symbol cache of a finished session: same answers as the symbolizer, without the images.</summary>
public sealed class SymbolCacheTests(CProgramFixture prog) : IClassFixture<CProgramFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xenprof-symcache-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string App => Path.Combine(_dir, "app");

    private void WriteSession()
    {
        File.Copy(prog.Pie, App);
        var syms = Tools.Nm(prog.Pie).ToDictionary(s => s.Name, s => s.Addr);
        using var s = SessionStore.Create(Path.Combine(_dir, StoreSchema.FileName));
        var ev = s.AddEvent(new StoredEvent("CPU_CLOCK", 1, 0, 1000000, 0, true, true, "ns", "clock")).Id;
        var app = s.InternImage(App, ImageKind.Elf, null);
        var gone = s.InternImage(Path.Combine(_dir, "libgone.so"), ImageKind.Elf, null);
        // PIE from gcc: text file offsets equal their SVMAs.
        var main = s.InternFrame(app, syms["main"] + 8);
        var beta = s.InternStack([main, s.InternFrame(app, syms["xp_beta"] + 4)]);
        var alpha = s.InternStack([main, s.InternFrame(app, syms["xp_beta"] + 4), s.InternFrame(app, syms["xp_alpha"] + 2)]);
        var lost = s.InternStack([main, s.InternFrame(gone, 0x5000)]);
        s.SetProcess(0, 100, 1, "app");
        foreach (var (st, n) in new[] { (beta, 5), (alpha, 3), (lost, 2) })
            for (int i = 0; i < n; i++) s.AddSample(new StoredSample(i, 0, 0, 100, 100, ev, st, SampleMode.User, 1));
    }

    private static string Rows(XenProf.Reporter.Profile.Profile p) =>
        string.Join("\n", p.Symbols.Select(r => $"{r.ImageRow.Name} {r.Symbol} {r.Counts.Total} {r.Start:x}+{r.Size:x} "
            + string.Join(",", r.Details.Select(d => $"{d.Vma:x}:{d.Counts.Total}"))));

    [Fact]
    public void CachedSession_ReportsTheSameWithoutItsImages()
    {
        if (prog.SkipReason != null) { Console.WriteLine(prog.SkipReason); return; }
        WriteSession();
        var opts = new ProfileOptions { WithDetails = true, WithStacks = true };
        var before = SessionProfiles.Load(_dir, opts);
        Assert.Contains(before.Symbols, r => r.Symbol == "xp_beta");
        Assert.Contains(before.Warnings, w => w.Contains("libgone.so"));

        Assert.Equal(4, SymbolCache.Fill(_dir));
        File.Delete(App); // the cache answers now: the image is no longer read
        var after = SessionProfiles.Load(_dir, opts);
        Assert.Equal(Rows(before), Rows(after));
        static IEnumerable<string> Stacks(XenProf.Reporter.Profile.Profile p) => p.StackTotals.Select(t => string.Join(";", p.StackOf(t.Stack).Select(l => (l.Name, l.Kind))));
        Assert.Equal(Stacks(before), Stacks(after));
        Assert.Contains(after.Warnings, w => w.Contains("libgone.so"));

        // Another symbolizer configuration does not use the cache: the deleted image is missed, and said so.
        using var noRecovery = new Symbolizer(SessionProfiles.SymbolizerOptionsFor(_dir) with { RecoverFunctions = false });
        var fresh = SessionProfiles.Load(_dir, opts, noRecovery);
        Assert.DoesNotContain(fresh.Symbols, r => r.Symbol == "xp_beta");
        Assert.Contains(fresh.Warnings, w => w.Contains(App));
    }

    private static string Flat(XenProf.Reporter.Profile.Profile p) =>
        string.Join("\n", p.Images.Select(r => $"{r.Name} {r.Counts.Total}").Concat(p.Symbols.Select(r => $"{r.ImageRow.Name} {r.ImageRow.App?.Name} {r.Symbol} {r.Counts.Total}")))
        + "\n" + string.Join(",", p.Totals) + "\n" + string.Join("\n", p.Warnings);

    [Fact]
    public void FlatReports_ReadTheLeafTotals_UntilSamplesAreAdded()
    {
        if (prog.SkipReason != null) { Console.WriteLine(prog.SkipReason); return; }
        WriteSession();
        var flat = new[]
        {
            new ProfileOptions(),
            new ProfileOptions { Separate = Separation.Lib },
            new ProfileOptions { Separate = Separation.Tgid },
            new ProfileOptions { Images = ["app"] },
            new ProfileOptions { ExcludeSymbols = ["xp_beta"] },
        };
        var before = flat.Select(o => Flat(SessionProfiles.Load(_dir, o))).ToList();
        SymbolCache.Fill(_dir);
        // Neither the image nor the symbol cache is there to name a frame: only the leaf totals can.
        File.Delete(App);
        using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_dir, StoreSchema.FileName)};Pooling=False"))
        {
            db.Open();
            using var c = db.CreateCommand();
            c.CommandText = "DELETE FROM symbol_cache";
            c.ExecuteNonQuery();
        }
        Assert.Equal(before, flat.Select(o => Flat(SessionProfiles.Load(_dir, o))).ToList());
        Assert.DoesNotContain(SessionProfiles.Load(_dir, new ProfileOptions { WithDetails = true }).Symbols, r => r.Symbol == "xp_beta");

        // A sample committed after them (a session appended to) makes them stale: the stacks are read again.
        using (var s = SessionStore.OpenForAppend(Path.Combine(_dir, StoreSchema.FileName)))
        {
            var ev = s.ReadEvents()[0].Id;
            var stack = s.ReadStackTotals().First().Stack;
            s.AddSample(new StoredSample(9, 0, 0, 100, 100, ev, stack, SampleMode.User, 1));
            s.Commit();
        }
        var appended = SessionProfiles.Load(_dir, new ProfileOptions());
        Assert.Equal(11, appended.Totals[0]);
        Assert.DoesNotContain(appended.Symbols, r => r.Symbol == "xp_beta");
    }
}
