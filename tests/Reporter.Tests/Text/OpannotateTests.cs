using XenProf.Hypervisor.Binary.Elf;
using System.Text.RegularExpressions;
using Xunit;
using XenProf.Reporter.Profile;
using XenProf.Reporter.Symbols;
using XenProf.Reporter.Tests.Symbols;
using XenProf.Reporter.Text;
using XenProf.Sampler.Store;
using Xunit.Abstractions;

namespace XenProf.Reporter.Tests.Text;

/// <summary>
/// opannotate and opreport --details on a session store written by the test, with samples at known instructions of
/// the fixture program, checked against <c>objdump -d</c> of the same file.
/// </summary>
public partial class OpannotateTests(CProgramFixture prog, ITestOutputHelper output) : IClassFixture<CProgramFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xenprof-ann-").FullName;
    private static readonly SymbolizerOptions Local = new() { UseSystemDebugRoot = false, KallsymsPath = "/nonexistent", UseRunningVdso = false, CacheDirectory = null };

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    private bool Skip()
    {
        if (prog.SkipReason == null && Tools.Has("objdump")) return false;
        output.WriteLine(prog.SkipReason ?? "skipped: objdump missing");
        return true;
    }

    [GeneratedRegex(@"^\s*([0-9a-f]+):\t(?:[0-9a-f]{2} )+\s*\t(.*)$")]
    private static partial Regex ObjdumpInsn();

    [GeneratedRegex(@"^([0-9a-f]+) <(.+)>:$")]
    private static partial Regex ObjdumpLabel();

    /// <summary>objdump -d instructions per function: address → text with the <c>&lt;sym&gt;</c> decorations removed.</summary>
    private static Dictionary<string, List<(ulong Addr, string Text)>> Objdump(string path, params string[] extra)
    {
        var result = new Dictionary<string, List<(ulong, string)>>();
        List<(ulong, string)>? cur = null;
        foreach (var line in Tools.Run("objdump", ["-d", "-w", .. extra, path]).Split('\n'))
        {
            if (ObjdumpLabel().Match(line) is { Success: true } l)
            {
                // Static functions of different files may share a name: keep every instance's instructions.
                if (!result.TryGetValue(l.Groups[2].Value, out cur)) result[l.Groups[2].Value] = cur = [];
                continue;
            }
            if (cur != null && ObjdumpInsn().Match(line) is { Success: true } m)
                cur.Add((Convert.ToUInt64(m.Groups[1].Value, 16), Normalize(m.Groups[2].Value)));
        }
        return result;
    }

    /// <summary>Mnemonic and operands with runs of blanks collapsed and branch/comment symbol names dropped.</summary>
    private static string Normalize(string text) => Regex.Replace(Regex.Replace(text, @" <[^>]*>", ""), @"\s+", " ").Trim();

    private static ulong FileOffset(string path, ulong svma)
    {
        using var elf = ElfObjectFile.Open(path);
        var s = elf.LoadSegments.Single(l => svma >= l.Vaddr && svma - l.Vaddr < l.FileSize);
        return svma - s.Vaddr + s.FileOffset;
    }

    /// <summary>Writes a store with <paramref name="samples"/> (SVMA → count) in <paramref name="image"/> and builds its detailed profile.</summary>
    private Profile.Profile BuildProfile(string image, IEnumerable<(ulong Svma, int Count)> samples, Symbolizer symbolizer)
    {
        var path = Path.Combine(_dir, $"s{Guid.NewGuid():n}.db");
        using (var store = SessionStore.Create(path))
        {
            var ev = store.AddEvent(new StoredEvent("CPU_CLOCK", 1, 0, 1000000, 0, true, true, "ns", "CPU clock"));
            var img = store.InternImage(image, ImageKind.Elf, null);
            foreach (var (svma, count) in samples)
            {
                var stack = store.InternStack(default, store.InternFrame(img, FileOffset(image, svma)));
                for (int i = 0; i < count; i++) store.AddSample(new StoredSample(i, 0, 0, 1, 1, ev.Id, stack, SampleMode.User, 1));
            }
            store.Commit();
        }
        using var read = SessionStore.OpenRead(path);
        return ProfileBuilder.Build(read, new StoreFrameSymbolizer(symbolizer), new ProfileOptions { WithDetails = true });
    }

    /// <summary>Annotated lines: address → (count column, instruction text).</summary>
    private static Dictionary<ulong, (string Counts, string Text)> Parse(string listing)
    {
        var d = new Dictionary<ulong, (string, string)>();
        foreach (var line in listing.Split('\n'))
        {
            int sep = line.IndexOf(" :", StringComparison.Ordinal);
            if (sep < 0 || ObjdumpInsn().Match(line[(sep + 2)..]) is not { Success: true } m) continue;
            d[Convert.ToUInt64(m.Groups[1].Value, 16)] = (line[..sep], Normalize(Regex.Replace(m.Groups[2].Value, @"\s+#.*$", "")));
        }
        return d;
    }

    [Fact]
    public void MissingBinary_ListedBySampledAddressUnderANote()
    {
        if (Skip()) return;
        var copy = Path.Combine(_dir, "prog-copy");
        File.Copy(prog.Pie, copy);
        var objdump = Objdump(copy);
        Profile.Profile profile;
        using (var sym = new Symbolizer(Local)) profile = BuildProfile(copy, CProgramFixture.Functions.Select(f => (objdump[f][1].Addr, 2)).ToList(), sym);
        File.Delete(copy); // gone between recording and annotating

        using var fresh = new Symbolizer(Local);
        using var code = new CodeBytes(fresh);
        var w = new StringWriter();
        var notes = new List<string>();
        Assert.Equal(0, OpannotateWriter.Write(profile, fresh, code, w, new OpannotateOptions(), notes.Add));
        var text = w.ToString().Replace("\r", "");
        output.WriteLine(text);
        foreach (var f in CProgramFixture.Functions)
        {
            Assert.Contains($"/* {f}: no binary here: {copy} is missing or unreadable; listed by sampled address */", text);
            var (start, at) = (objdump[f][0].Addr, objdump[f][1].Addr);
            Assert.Matches($@"\n +2 +[\d.]+ : *{at:x}:\t<{Regex.Escape(f)}\+0x{at - start:x}>\n", text);
        }
        Assert.Equal([$"prog-copy: no binary here: {copy} is missing or unreadable; its functions are listed by sampled address"], notes);
        Assert.DoesNotContain("no sampled function could be annotated", text);
    }

    [Fact]
    public void AssemblyMatchesObjdumpInstructionByInstruction()
    {
        if (Skip()) return;
        var objdump = Objdump(prog.Pie);
        using var sym = new Symbolizer(Local);
        var samples = CProgramFixture.Functions.Select(f => (objdump[f][0].Addr, 1)).ToList();
        var profile = BuildProfile(prog.Pie, samples, sym);
        using var code = new CodeBytes(sym);
        var w = new StringWriter();
        Assert.Equal(CProgramFixture.Functions.Length, OpannotateWriter.Write(profile, sym, code, w, new OpannotateOptions()));
        var ours = Parse(w.ToString());
        int compared = 0;
        using var elf = ElfObjectFile.Open(prog.Pie);
        foreach (var f in CProgramFixture.Functions)
            foreach (var (addr, text) in objdump[f])
            {
                // objdump also lists the alignment padding after a function under its label; the symbol ends before it.
                var s = elf.FindSymbol(new Svma(objdump[f][0].Addr))!.Value;
                if (addr - s.Start.Value >= s.Size) continue;
                Assert.True(ours.TryGetValue(addr, out var o), $"{f}: 0x{addr:x} missing from the listing");
                Assert.Equal($"{addr:x}: {Regex.Replace(text, @"\s+#.*$", "")}", $"{addr:x}: {o.Text}");
                compared++;
            }
        output.WriteLine($"{compared} instructions compared");
        Assert.Contains($"<xp_alpha>: /* xp_alpha total:      1 ", w.ToString());
    }

    [Theory]
    [InlineData(AsmSyntax.Gas)]
    [InlineData(AsmSyntax.Intel)]
    public void StrippedLibraryCodeMatchesObjdump(AsmSyntax syntax)
    {
        const string lib = "/usr/lib/x86_64-linux-gnu/liblzma.so.5";
        if (Skip() || !File.Exists(lib)) return;
        var real = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(lib)!, new FileInfo(lib).LinkTarget ?? lib));
        using var elf = ElfObjectFile.Open(real);
        var rec = FunctionRecovery.Recover(elf);
        // The ten largest recovered functions.
        var fns = rec.Functions.Where(f => f.Source == RecoveredFrom.EhFrame).OrderByDescending(f => f.Size).Take(10).ToList();
        using var sym = new Symbolizer(Local);
        var profile = BuildProfile(real, fns.Select(f => (f.Start.Value, 1)), sym);
        using var code = new CodeBytes(sym);
        var w = new StringWriter();
        OpannotateWriter.Write(profile, sym, code, w, new OpannotateOptions { Syntax = syntax });
        var ours = Parse(w.ToString());
        var all = Objdump(real, syntax == AsmSyntax.Intel ? ["-M", "intel"] : []).Values.SelectMany(v => v).ToDictionary(x => x.Addr, x => Regex.Replace(x.Text, @"\s+#.*$", ""));
        int compared = 0;
        foreach (var (addr, (_, text)) in ours)
        {
            Assert.True(all.TryGetValue(addr, out var expected), $"0x{addr:x} is not an objdump instruction boundary");
            Assert.Equal($"{addr:x}: {expected}", $"{addr:x}: {text}");
            compared++;
        }
        output.WriteLine($"{compared} liblzma instructions compared");
        Assert.True(compared > 1000);
    }

    [Fact]
    public void SkidAdjustMovesASampleAfterALoadOntoTheLoad()
    {
        if (Skip()) return;
        // A function whose first instruction is a load from its argument: mov (%rdi),%rax (then arithmetic).
        var src = Path.Combine(_dir, "load.c");
        var so = Path.Combine(_dir, "libload.so");
        File.WriteAllText(src, "__attribute__((noinline)) long xp_load(long *p) { return *p * 3 + 1; }\n");
        Tools.Run("gcc", "-O2", "-shared", "-fPIC", "-o", so, src);
        var insns = Objdump(so)["xp_load"];
        int load = insns.FindIndex(i => i.Text.Contains("(%rdi)"));
        Assert.True(load >= 0 && load + 1 < insns.Count, string.Join("; ", insns));
        ulong loadAddr = insns[load].Addr, after = insns[load + 1].Addr;

        using var sym = new Symbolizer(Local);
        var profile = BuildProfile(so, [(after, 5)], sym);
        using var code = new CodeBytes(sym);
        var w = new StringWriter();
        OpannotateWriter.Write(profile, sym, code, w, new OpannotateOptions { SkidAdjust = true });
        output.WriteLine(w.ToString());
        var ours = Parse(w.ToString());
        var (rawAtLoad, adjAtLoad) = Split(ours[loadAddr].Counts);
        var (rawAfter, adjAfter) = Split(ours[after].Counts);
        Assert.Equal(("", "5"), (rawAtLoad, adjAtLoad));
        Assert.Equal(("5", ""), (rawAfter, adjAfter));
        Assert.Contains("skid-adjusted", w.ToString());

        using var elf = ElfObjectFile.Open(so);
        var dis = FunctionDisassembly.Decode(elf.BytesAt(new Svma(insns[0].Addr), (int)(insns[^1].Addr - insns[0].Addr + 1)), insns[0].Addr);
        Assert.Equal(loadAddr, dis.SkidAdjust(after));
        Assert.Equal(loadAddr, dis.SkidAdjust(loadAddr + 1)); // inside the load: folded onto it
        Assert.Equal(insns[0].Addr, dis.SkidAdjust(insns[0].Addr)); // first instruction stays
    }

    /// <summary>A real hypervisor image: <c>$XENPROF_XEN_SYMS</c>, else the Debian debug package's path.</summary>
    private static string? XenSyms() =>
        Environment.GetEnvironmentVariable("XENPROF_XEN_SYMS") is { Length: > 0 } e && File.Exists(e) ? e
        : Directory.Exists("/usr/lib/debug/boot") ? Directory.GetFiles("/usr/lib/debug/boot", "xen-syms-*").FirstOrDefault(f => !f.EndsWith(".map")) : null;

    [Fact]
    public void HypervisorImageAnnotatesLikeObjdump()
    {
        if (Skip()) return;
        if (XenSyms() is not { } xen) { output.WriteLine("skipped: no xen-syms (set XENPROF_XEN_SYMS or install xen-hypervisor-*-dbg)"); return; }
        using var elf = ElfObjectFile.Open(xen);
        // Hypervisor frames are absolute addresses in xen-syms' own address space (its SVMAs).
        var fns = elf.Symbols.Where(f => f.Size is > 64 and < 4096).Where((_, i) => i % 17 == 0).Take(120).ToList();
        var path = Path.Combine(_dir, "xen.db");
        using (var store = SessionStore.Create(path))
        {
            var ev = store.AddEvent(new StoredEvent("CPU_CLOCK", 1, 0, 1000000, 0, true, true, "ns", "CPU clock"));
            var img = store.InternImage(xen, ImageKind.Hypervisor, null);
            foreach (var f in fns)
                store.AddSample(new StoredSample(0, 0, 0, 0, 0, ev.Id, store.InternStack(default, store.InternFrame(img, f.Start.Value + 1)), SampleMode.Hypervisor, 1));
            store.Commit();
        }
        using var sym = new Symbolizer(Local);
        using var read = SessionStore.OpenRead(path);
        var profile = ProfileBuilder.Build(read, new StoreFrameSymbolizer(sym), new ProfileOptions { WithDetails = true });
        using var code = new CodeBytes(sym);
        var w = new StringWriter();
        Assert.Equal(fns.Count, OpannotateWriter.Write(profile, sym, code, w, new OpannotateOptions()));
        var ours = Parse(w.ToString());
        var all = Objdump(xen).Values.SelectMany(v => v).GroupBy(x => x.Addr).ToDictionary(g => g.Key, g => Regex.Replace(g.First().Text, @"\s+#.*$", ""));
        foreach (var (addr, (_, text)) in ours)
            Assert.Equal($"{addr:x}: {all[addr]}", $"{addr:x}: {text}");
        output.WriteLine($"{ours.Count} xen-syms instructions compared in {fns.Count} functions");
    }

    /// <summary>
    /// Kernel frames read their code from an ELF core file laid out like <c>/proc/kcore</c> (one <c>PT_LOAD</c> per
    /// kernel range, <c>p_vaddr</c> = kernel virtual address): here a synthetic one holding xp_beta's bytes at a
    /// kernel address, named by a kallsyms file, so the listing must equal objdump's xp_beta instruction by instruction.
    /// </summary>
    [Fact]
    public void KernelCodeComesFromAKcoreStyleCoreFile()
    {
        if (Skip()) return;
        var beta = Objdump(prog.Pie)["xp_beta"];
        using var elf = ElfObjectFile.Open(prog.Pie);
        var fn = elf.FindSymbol(new Svma(beta[0].Addr))!.Value;
        var code = elf.BytesAt(fn.Start, (int)fn.Size).ToArray();
        const ulong kaddr = 0xffffffff81200000;
        // Elf64_Ehdr (64 bytes) + one Elf64_Phdr (56 bytes) + the code at file offset 0x1000.
        var core = new byte[0x1000 + code.Length];
        core[0] = 0x7f; core[1] = (byte)'E'; core[2] = (byte)'L'; core[3] = (byte)'F'; core[4] = 2; core[5] = 1; core[6] = 1;
        BitConverter.GetBytes((ushort)4).CopyTo(core, 16);          // e_type ET_CORE
        BitConverter.GetBytes((ushort)62).CopyTo(core, 18);         // e_machine x86-64
        BitConverter.GetBytes(64UL).CopyTo(core, 32);               // e_phoff
        BitConverter.GetBytes((ushort)56).CopyTo(core, 54);         // e_phentsize
        BitConverter.GetBytes((ushort)1).CopyTo(core, 56);          // e_phnum
        BitConverter.GetBytes(1U).CopyTo(core, 64);                 // p_type PT_LOAD
        BitConverter.GetBytes(0x1000UL).CopyTo(core, 64 + 8);       // p_offset
        BitConverter.GetBytes(kaddr).CopyTo(core, 64 + 16);         // p_vaddr
        BitConverter.GetBytes((ulong)code.Length).CopyTo(core, 64 + 32); // p_filesz
        code.CopyTo(core, 0x1000);
        var kcore = Path.Combine(_dir, "kcore");
        File.WriteAllBytes(kcore, core);
        var kallsyms = Path.Combine(_dir, "kallsyms");
        File.WriteAllText(kallsyms, $"{kaddr:x16} T xp_kbeta\n{kaddr + fn.Size:x16} T xp_knext\n");

        var path = Path.Combine(_dir, "k.db");
        using (var store = SessionStore.Create(path))
        {
            var ev = store.AddEvent(new StoredEvent("CPU_CLOCK", 1, 0, 1000000, 0, true, true, "ns", "CPU clock"));
            var img = store.InternImage("[kernel.kallsyms]", ImageKind.Kernel, null);
            var at = kaddr + (beta[3].Addr - fn.Start.Value);
            store.AddSample(new StoredSample(0, 0, 0, 0, 0, ev.Id, store.InternStack(default, store.InternFrame(img, at)), SampleMode.Kernel, 1));
            store.Commit();
        }
        using var sym = new Symbolizer(Local with { KallsymsPath = kallsyms, ModulesPath = null });
        using var read = SessionStore.OpenRead(path);
        var profile = ProfileBuilder.Build(read, new StoreFrameSymbolizer(sym), new ProfileOptions { WithDetails = true });
        using var bytes = new CodeBytes(sym, vmlinux: null, kcorePath: kcore);
        var w = new StringWriter();
        int listed = OpannotateWriter.Write(profile, sym, bytes, w, new OpannotateOptions());
        output.WriteLine(w.ToString());
        Assert.Equal(1, listed);
        var ours = Parse(w.ToString());
        var expected = beta.Where(b => b.Addr - fn.Start.Value < fn.Size).ToList();
        Assert.Equal(expected.Count, ours.Count);
        foreach (var (addr, text) in expected)
        {
            var k = kaddr + (addr - fn.Start.Value);
            // Branch targets move with the code; compare mnemonic and operands up to the target address.
            var exp = Regex.Replace(text, @"\s+#.*$", "");
            var got = ours[k].Text;
            if (Regex.Match(exp, @"^(j\w+|call) [0-9a-f]+$") is { Success: true })
                Assert.Equal(exp.Split(' ')[0], got.Split(' ')[0]);
            else
                Assert.Equal(exp, got);
        }
        Assert.Contains("<xp_kbeta>: /* xp_kbeta total:      1 ", w.ToString());
        Assert.Contains($" <xp_kbeta+0x", w.ToString()); // a branch inside the function named by symbol+offset
    }

    private static (string Raw, string Adjusted) Split(string counts)
    {
        var parts = counts.Split(" | ");
        static string First(string s) => s.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
        return (First(parts[0]), First(parts[1]));
    }

    [Fact]
    public void DetailsListEverySampledAddressUnderItsSymbol()
    {
        if (Skip()) return;
        var objdump = Objdump(prog.Pie);
        var beta = objdump["xp_beta"];
        using var sym = new Symbolizer(Local);
        var profile = BuildProfile(prog.Pie, [(beta[0].Addr, 3), (beta[2].Addr, 1)], sym);
        var row = Assert.Single(profile.Symbols);
        Assert.Equal("xp_beta", row.Symbol);
        Assert.Equal(beta[0].Addr, row.Start);
        Assert.Equal([(beta[0].Addr, 3L), (beta[2].Addr, 1L)], row.Details.Select(d => (d.Vma, d.Counts.Total)));
        var w = new StringWriter();
        OpreportWriter.Write(profile, w, new OpreportOptions { Details = true, ErrorBars = false, NoHeader = true });
        var lines = w.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("vma ", lines[0]);
        Assert.StartsWith($"{beta[0].Addr:x16} 4 ", lines[1]);
        Assert.Equal($"  {beta[0].Addr:x16} 3        75.0000", lines[2]);
        Assert.Equal($"  {beta[2].Addr:x16} 1        25.0000", lines[3]);
    }

    [Fact]
    public void SourceWithoutDebugInfoSaysSoAndSourceWithDebugInfoInterleaves()
    {
        if (Skip() || !Tools.Has("addr2line")) return;
        var objdump = Objdump(prog.Pie);
        using var sym = new Symbolizer(Local with { UseDebugFiles = false });
        using var code = new CodeBytes(sym);
        var withDebug = BuildProfile(prog.Pie, [(objdump["xp_alpha"][0].Addr, 2)], sym);
        var w = new StringWriter();
        OpannotateWriter.Write(withDebug, sym, code, w, new OpannotateOptions { Source = true });
        Assert.Contains("prog.c:4", w.ToString());
        Assert.Contains("xp_alpha(long x) { return xp_static_helper(x) ^ 0x55; }", w.ToString());

        var stripped = BuildProfile(prog.Stripped, [(objdump["xp_alpha"][0].Addr, 2)], sym);
        w = new StringWriter();
        OpannotateWriter.Write(stripped, sym, code, w, new OpannotateOptions { Source = true });
        Assert.Contains("no DWARF line table", w.ToString());
    }
}
