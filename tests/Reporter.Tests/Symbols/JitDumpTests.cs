using System.Buffers.Binary;
using System.Text;
using Xunit;
using XenProf.Hypervisor.Binary;
using XenProf.Reporter.Symbols;

namespace XenProf.Reporter.Tests.Symbols;

/// <summary>
/// Writes jitdump byte vectors by hand, field by field as the specification lists them
/// (linux tools/perf/Documentation/jitdump-specification.txt §III–§IX), in either byte order.
/// </summary>
internal sealed class JitDumpBuilder(bool bigEndian = false)
{
    private readonly MemoryStream _ms = new();

    public long Length => _ms.Length;

    private void U32(uint v) { Span<byte> b = stackalloc byte[4]; if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(b, v); else BinaryPrimitives.WriteUInt32LittleEndian(b, v); _ms.Write(b); }
    private void U64(ulong v) { Span<byte> b = stackalloc byte[8]; if (bigEndian) BinaryPrimitives.WriteUInt64BigEndian(b, v); else BinaryPrimitives.WriteUInt64LittleEndian(b, v); _ms.Write(b); }
    private void Str(string s) { _ms.Write(Encoding.ASCII.GetBytes(s)); _ms.WriteByte(0); }

    public JitDumpBuilder Header(uint pid = 4242, uint version = 1, uint totalSize = 40, ulong flags = 0)
    {
        U32(0x4A695444); U32(version); U32(totalSize); U32(62); U32(0); U32(pid); U64(1000); U64(flags);
        for (uint i = 40; i < totalSize; i++) _ms.WriteByte(0xEE);
        return this;
    }

    private void RecordHeader(uint id, int payload, ulong ts) { U32(id); U32((uint)(16 + payload)); U64(ts); }

    public JitDumpBuilder Load(ulong addr, string name, byte[] code, ulong index, ulong ts = 2000)
    {
        RecordHeader(0, 4 + 4 + 8 * 4 + name.Length + 1 + code.Length, ts);
        U32(4242); U32(4243); U64(addr); U64(addr); U64((ulong)code.Length); U64(index); Str(name); _ms.Write(code);
        return this;
    }

    public JitDumpBuilder Move(ulong oldAddr, ulong newAddr, ulong size, ulong index)
    {
        RecordHeader(1, 4 + 4 + 8 * 5, 3000);
        U32(4242); U32(4243); U64(newAddr); U64(oldAddr); U64(newAddr); U64(size); U64(index);
        return this;
    }

    public JitDumpBuilder DebugInfo(ulong addr, params (ulong Addr, uint Line, string File)[] entries)
    {
        RecordHeader(2, 16 + entries.Sum(e => 16 + e.File.Length + 1), 1500);
        U64(addr); U64((ulong)entries.Length);
        foreach (var e in entries) { U64(e.Addr); U32(e.Line); U32(0); Str(e.File); }
        return this;
    }

    public JitDumpBuilder Unwinding(byte[] data, ulong hdrSize)
    {
        RecordHeader(4, 24 + data.Length, 1800);
        U64((ulong)data.Length); U64(hdrSize); U64((ulong)data.Length); _ms.Write(data);
        return this;
    }

    public JitDumpBuilder Close() { RecordHeader(3, 0, 9000); return this; }

    public JitDumpBuilder Raw(uint id, byte[] payload) { RecordHeader(id, payload.Length, 5000); _ms.Write(payload); return this; }

    /// <summary>A record header declaring <paramref name="totalSize"/> whatever follows.</summary>
    public JitDumpBuilder BadSize(uint totalSize) { U32(0); U32(totalSize); U64(0); return this; }

    public byte[] Bytes() => _ms.ToArray();
}

public class JitDumpTests
{
    private static readonly byte[] CodeA = [0x55, 0x48, 0x89, 0xe5, 0x90, 0x5d, 0xc3]; // push rbp; mov rbp,rsp; nop; pop rbp; ret
    private static readonly byte[] CodeB = [0x31, 0xc0, 0xc3];                          // xor eax,eax; ret

    /// <summary>Every record type once, in the order a runtime writes them (debug info before its load).</summary>
    private static JitDumpBuilder EveryRecord(bool bigEndian = false) => new JitDumpBuilder(bigEndian).Header()
        .DebugInfo(0x1000, (0x1000, 10, "a.cs"), (0x1004, 11, "a.cs"))
        .Load(0x1000, "[Tier0]A::Run()", CodeA, index: 1)
        .Unwinding(new byte[12], 4)
        .Load(0x2000, "[Tier1]B::Get()", CodeB, index: 2)
        .Move(0x2000, 0x3000, (ulong)CodeB.Length, index: 2)
        .Raw(77, [1, 2, 3, 4, 5])
        .Close();

    private static JitDumpReader Reader(byte[] bytes) => new(new MemoryStream(bytes), "test.dump");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsEveryRecordType(bool bigEndian)
    {
        var bytes = EveryRecord(bigEndian).Bytes();
        using var r = Reader(bytes);
        Assert.Equal(new JitDumpHeader(1, 40, 62, 4242, 1000, 0, bigEndian), r.Header);
        var recs = r.ReadAll().ToList();
        Assert.Equal(7, recs.Count);

        var dbg = Assert.IsType<JitCodeDebugInfo>(recs[0]);
        Assert.Equal((0x1000UL, 40L, 1500UL), (dbg.CodeAddress, dbg.Offset, dbg.Timestamp));
        Assert.Equal([new JitDebugEntry(0x1000, 10, 0, "a.cs"), new JitDebugEntry(0x1004, 11, 0, "a.cs")], dbg.Entries);

        var a = Assert.IsType<JitCodeLoad>(recs[1]);
        Assert.Equal((4242u, 4243u, 0x1000UL, 0x1000UL, (ulong)CodeA.Length, 1UL, "[Tier0]A::Run()"), (a.Pid, a.Tid, a.Vma, a.CodeAddress, a.CodeSize, a.CodeIndex, a.Name));
        Assert.Equal(CodeA, bytes.AsSpan((int)a.CodeOffset, CodeA.Length).ToArray());
        Assert.Equal(a.Offset + a.Size, recs[2].Offset);

        var u = Assert.IsType<JitCodeUnwindingInfo>(recs[2]);
        Assert.Equal((12UL, 4UL, 12UL, u.Offset + 16 + 24), (u.UnwindDataSize, u.EhFrameHeaderSize, u.MappedSize, u.DataOffset));

        Assert.Equal("[Tier1]B::Get()", Assert.IsType<JitCodeLoad>(recs[3]).Name);
        var m = Assert.IsType<JitCodeMove>(recs[4]);
        Assert.Equal((0x2000UL, 0x3000UL, 2UL, (ulong)CodeB.Length), (m.OldCodeAddress, m.NewCodeAddress, m.CodeIndex, m.CodeSize));
        Assert.Equal(77u, Assert.IsType<JitUnknownRecord>(recs[5]).Id);
        Assert.IsType<JitCodeClose>(recs[6]);

        // The unknown record is counted, not an error.
        Assert.Equal((1, 16L + 5), (r.UnknownRecords, r.SkippedBytes));
        Assert.Empty(r.Problems);
        Assert.Equal(bytes.Length, r.Position);
    }

    [Fact]
    public void SymbolTableNamesLoadsAndMovesAndReadsTheirCode()
    {
        using var t = JitSymbols.FromReader(Reader(EveryRecord().Bytes()), ownsReader: true);
        Assert.True(t.HasCode);
        Assert.Equal(new ResolvedSymbol("[Tier0]A::Run()", 0x1000, (ulong)CodeA.Length, 4), t.Find(0x1004));
        Assert.Null(t.Find(0x1000 + (ulong)CodeA.Length));
        Assert.Equal("[Tier1]B::Get()", t.Find(0x2001)?.Name);
        Assert.Equal(new ResolvedSymbol("[Tier1]B::Get()", 0x3000, 3, 2), t.Find(0x3002));
        Assert.Equal(CodeA, t.ReadCode(0x1000, 100));
        Assert.Equal(CodeA[2..], t.ReadCode(0x1002, 100));
        Assert.Equal(CodeB, t.ReadCode(0x3000, 3));
        Assert.Null(t.ReadCode(0x5000, 3));
        Assert.Contains("1 records of unknown type", t.Warning);
    }

    [Fact]
    public void TruncatedFileKeepsWholeRecordsAndCountsTheRest()
    {
        var full = EveryRecord().Bytes();
        // Cut 3 bytes into the code of the second load: the records before it survive.
        var cut = new JitDumpBuilder().Header()
            .DebugInfo(0x1000, (0x1000, 10, "a.cs"), (0x1004, 11, "a.cs"))
            .Load(0x1000, "[Tier0]A::Run()", CodeA, index: 1)
            .Unwinding(new byte[12], 4).Length;
        int secondLoadPayload = 4 + 4 + 32 + "[Tier1]B::Get()".Length + 1 + CodeB.Length;
        int keep = (int)cut + 16 + secondLoadPayload - 2;
        using var r = Reader(full[..keep]);
        var recs = r.ReadAll().ToList();
        Assert.Equal(3, recs.Count);
        Assert.Equal(keep - cut, r.SkippedBytes);
        var p = Assert.Single(r.Problems);
        Assert.Equal(("test.dump", cut, "JIT_CODE_LOAD"), (p.Path, p.Offset, p.Structure));
        Assert.Contains($"file ends {secondLoadPayload - 2} bytes into the {secondLoadPayload}-byte payload", p.Message);

        // Cut inside a record header.
        using var r2 = Reader(full[..(int)(cut + 5)]);
        Assert.Equal(3, r2.ReadAll().Count());
        Assert.Equal(5, r2.SkippedBytes);
        Assert.Contains("file ends 5 bytes into a 16-byte record header", Assert.Single(r2.Problems).Message);

        using var t = JitSymbols.FromReader(Reader(full[..keep]), ownsReader: true);
        Assert.Equal("[Tier0]A::Run()", t.Find(0x1000)?.Name);
        Assert.Null(t.Find(0x2000));
        Assert.StartsWith($"{keep - cut} bytes of test.dump skipped: test.dump: offset 0x{cut:x}: JIT_CODE_LOAD:", t.Warning);
    }

    [Fact]
    public void CorruptRecordSizeStopsWithItsOffset()
    {
        var b = new JitDumpBuilder().Header().Load(0x1000, "f", CodeB, 1);
        long at = b.Length;
        var bytes = b.BadSize(8).Load(0x2000, "g", CodeB, 2).Bytes();
        using var r = Reader(bytes);
        Assert.Single(r.ReadAll());
        var p = Assert.Single(r.Problems);
        Assert.Equal((at, "jr_prefix.total_size"), (p.Offset, p.Structure));
        Assert.Contains("total_size 8 is under the 16-byte record header", p.Problem);
        Assert.Equal(bytes.Length - at, r.SkippedBytes);
    }

    [Fact]
    public void MalformedPayloadSkipsOnlyThatRecord()
    {
        var b = new JitDumpBuilder().Header();
        long at = b.Length;
        // A CODE_LOAD whose name runs to the end of the record without a NUL.
        var payload = new byte[40 + 3];
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(24), 0); // code_size 0
        payload[40] = (byte)'a'; payload[41] = (byte)'b'; payload[42] = (byte)'c';
        var bytes = b.Raw(0, payload).Load(0x2000, "g", CodeB, 2).Bytes();
        using var r = Reader(bytes);
        var rec = Assert.Single(r.ReadAll());
        Assert.Equal("g", Assert.IsType<JitCodeLoad>(rec).Name);
        var p = Assert.Single(r.Problems);
        Assert.Equal((at + 16 + 40, "JIT_CODE_LOAD"), (p.Offset, p.Structure));
        Assert.Contains("no terminating NUL", p.Problem);
        Assert.Equal(16 + payload.Length, r.SkippedBytes);

        // code_size larger than what the record holds.
        var big = new JitDumpBuilder().Header();
        var p2 = new byte[40 + 2];
        BinaryPrimitives.WriteUInt64LittleEndian(p2.AsSpan(24), 99);
        p2[40] = (byte)'f';
        using var r2 = Reader(big.Raw(0, p2).Close().Bytes());
        Assert.IsType<JitCodeClose>(Assert.Single(r2.ReadAll()));
        Assert.Contains("code_size 99 but only 0 bytes remain", Assert.Single(r2.Problems).Problem);
    }

    [Theory]
    [InlineData(new byte[] { 1, 2 }, 2, "jitheader", "file ends after 2 bytes")]
    [InlineData(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F', 0, 0, 0, 0 }, 0, "jitheader.magic", "0x464C457F is not the jitdump magic 0x4A695444")]
    [InlineData(new byte[] { 0x44, 0x54, 0x69, 0x4A, 1, 0, 0, 0, 40 }, 9, "jitheader", "inside the 40-byte header")]
    public void BadHeaderThrowsWithOffset(byte[] bytes, long offset, string structure, string message)
    {
        var e = Assert.Throws<MalformedDataException>(() => Reader(bytes));
        Assert.Equal(("test.dump", offset, structure), (e.Path, e.Offset, e.Structure));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void UnknownVersionAndShortHeaderSizeAreRejected()
    {
        var e = Assert.Throws<MalformedDataException>(() => Reader(new JitDumpBuilder().Header(version: 2).Bytes()));
        Assert.Equal((4L, "jitheader.version"), (e.Offset, e.Structure));
        e = Assert.Throws<MalformedDataException>(() => Reader(new JitDumpBuilder().Header(totalSize: 32).Bytes()));
        Assert.Equal((8L, "jitheader.total_size"), (e.Offset, e.Structure));
    }

    [Fact]
    public void LargerHeaderIsSkipped()
    {
        using var r = Reader(new JitDumpBuilder().Header(totalSize: 48, flags: 1).Close().Bytes());
        Assert.True(r.Header.UsesArchTimestamp);
        Assert.Equal(48L, Assert.IsType<JitCodeClose>(Assert.Single(r.ReadAll())).Offset);
    }

    [Fact]
    public void JitSymbolsPreferTheDumpBesideThePerfMap()
    {
        var dir = Directory.CreateTempSubdirectory("xenprof-jit-").FullName;
        try
        {
            var map = Path.Combine(dir, "perf-4242.map");
            File.WriteAllText(map, "1000 7 FromPerfMap\n");
            Assert.Equal(Path.Combine(dir, "jit-4242.dump"), JitSymbols.JitDumpPathFor(map));
            Assert.Null(JitSymbols.JitDumpPathFor(Path.Combine(dir, "perf-x.map")));

            using (var s = new Symbolizer(new SymbolizerOptions { CacheDirectory = null }))
            {
                Assert.Equal("FromPerfMap", s.ResolveJit(map, 0x1003)?.Name);
                Assert.False(s.GetJit(map)!.HasCode);
            }

            File.WriteAllBytes(Path.Combine(dir, "jit-4242.dump"), EveryRecord().Bytes());
            File.AppendAllText(map, "9000 10 OnlyInPerfMap\n");
            using (var s = new Symbolizer(new SymbolizerOptions { CacheDirectory = null }))
            {
                Assert.Equal(new ResolvedSymbol("[Tier0]A::Run()", 0x1000, 7, 3), s.ResolveJit(map, 0x1003));
                using var code = new CodeBytes(s);
                Assert.Equal(CodeA, code.Read(map, ObjectKind.Anonymous, 0x1000, 64));
                // What the dump lacks (a runtime that stopped writing it), the perf map beside it still names; no code though.
                Assert.Equal("OnlyInPerfMap", s.ResolveJit(map, 0x9001)?.Name);
                Assert.Null(code.Read(map, ObjectKind.Anonymous, 0x9001, 4));
            }

            // A dump with a bad header falls back to the perf map, with a warning naming the dump.
            File.WriteAllBytes(Path.Combine(dir, "jit-4242.dump"), [1, 2, 3, 4, 5]);
            using (var s = new Symbolizer(new SymbolizerOptions { CacheDirectory = null }))
            {
                Assert.Equal("FromPerfMap", s.ResolveJit(map, 0x1003)?.Name);
                Assert.Contains(s.Warnings, w => w.Message.Contains("jit-4242.dump: offset 0x0: jitheader.magic", StringComparison.Ordinal));
            }
        }
        finally { Directory.Delete(dir, true); }
    }
}

/// <summary>The reader on a real dump: the .NET burner run with <c>DOTNET_PerfMapEnabled=1</c> writes
/// <c>jit-PID.dump</c> and <c>perf-PID.map</c> (into a private directory through <c>DOTNET_PerfMapJitDumpPath</c>).</summary>
public class DotnetJitDumpTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void DotnetJitDumpNamesTheHotMethodsAndCarriesTheirCode()
    {
        var (burner, why) = DotnetBurner.Program;
        if (burner == null) { output.WriteLine("skipped: " + why); Console.WriteLine($"{nameof(DotnetJitDumpTests)}: skipped: {why}"); return; }
        var dir = Directory.CreateTempSubdirectory("xenprof-jitdump-").FullName;
        try
        {
            var psi = new System.Diagnostics.ProcessStartInfo(burner) { RedirectStandardOutput = true, UseShellExecute = false };
            psi.ArgumentList.Add("0.5");
            psi.Environment["DOTNET_PerfMapEnabled"] = "1";
            psi.Environment["DOTNET_PerfMapJitDumpPath"] = dir;
            // .NET 10.0 (10.0.12 here) reports uncommitted stub blocks with the default granularity, fails to copy
            // their code and writes nothing more after two records (dotnet/runtime#132935, fixed by #122274);
            // bit 1 reports stubs one by one instead.
            psi.Environment["DOTNET_PerfMapStubGranularity"] = "2";
            using var p = System.Diagnostics.Process.Start(psi)!;
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.Equal(0, p.ExitCode);
            string dump = Path.Combine(dir, $"jit-{p.Id}.dump"), map = Path.Combine(dir, $"perf-{p.Id}.map");
            Assert.True(File.Exists(dump), $"no {dump}: {string.Join(", ", Directory.GetFiles(dir))}");

            using var r = JitDumpReader.Open(dump);
            Assert.Equal((uint)p.Id, r.Header.Pid);
            Assert.Equal(62u, r.Header.ElfMachine); // this machine is x86-64; the dump says so
            var loads = r.ReadAll().OfType<JitCodeLoad>().ToList();
            Assert.Empty(r.Problems);
            output.WriteLine($"{loads.Count} JIT_CODE_LOAD records, {r.SkippedBytes} bytes skipped");
            var hot = loads.Where(l => l.Name.Contains("Burner::Hot(", StringComparison.Ordinal)).ToList();
            var warm = loads.Where(l => l.Name.Contains("Burner::Warm(", StringComparison.Ordinal)).ToList();
            foreach (var l in hot.Concat(warm)) output.WriteLine($"{l.CodeAddress:x} {l.CodeSize} {l.Name}");
            Assert.NotEmpty(hot);
            Assert.NotEmpty(warm);

            // The perf map written beside it names the same code at the same addresses.
            var perfMap = PerfMapSymbols.Load(map)!;
            foreach (var l in hot.Concat(warm))
                Assert.Equal(new ResolvedSymbol(l.Name, l.CodeAddress, l.CodeSize, 0), perfMap.FindSymbol(l.CodeAddress));

            // Through the symbolizer: names from the dump, and code bytes that decode as x86-64.
            using var s = new Symbolizer(new SymbolizerOptions { CacheDirectory = null });
            var jit = s.GetJit(map)!;
            Assert.Equal(dump, jit.SourcePath);
            Assert.True(jit.HasCode);
            var last = hot[^1];
            Assert.Equal(last.Name, s.ResolveJit(map, last.CodeAddress + last.CodeSize / 2)?.Name);
            using var code = new CodeBytes(s);
            var bytes = code.Read(map, ObjectKind.Anonymous, last.CodeAddress, (int)last.CodeSize)!;
            Assert.Equal((int)last.CodeSize, bytes.Length);
            var dis = FunctionDisassembly.Decode(bytes, last.CodeAddress);
            Assert.Equal(0, dis.InvalidCount);
            Assert.True(dis.Instructions.Count > 5, $"{dis.Instructions.Count} instructions");
        }
        finally { Directory.Delete(dir, true); }
    }
}
