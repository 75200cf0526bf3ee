using Xunit;
using System.Buffers.Binary;
using XenProf.Hypervisor.Binary;
using XenProf.Reporter.Symbols;

namespace XenProf.Reporter.Tests.Symbols;

public class MalformedElfTests(CProgramFixture prog) : IClassFixture<CProgramFixture>
{
    private byte[] Image() => File.ReadAllBytes(prog.SkipReason == null ? prog.Pie : "/lib/x86_64-linux-gnu/libc.so.6");

    [Fact]
    public void TruncatedHeaderNamesTheHeader()
    {
        var bytes = Image()[..40];
        var ex = Assert.Throws<MalformedDataException>(() => ElfObjectFile.FromBytes(bytes, "trunc.so"));
        Assert.Equal("trunc.so", ex.Path);
        Assert.Equal("Elf64_Ehdr", ex.Structure);
        Assert.Equal(40, ex.Offset);
    }

    [Fact]
    public void NotElfIsRejected()
    {
        var ex = Assert.Throws<MalformedDataException>(() => ElfObjectFile.FromBytes("#!/bin/sh\necho hi\n"u8.ToArray(), "script"));
        Assert.Equal("e_ident", ex.Structure);
        Assert.Contains("not an ELF file", ex.Message);
    }

    [Fact]
    public void EmptyFileIsMalformed()
    {
        var path = Path.Combine(Path.GetTempPath(), $"xenprof-empty-{Environment.ProcessId}.so");
        File.WriteAllBytes(path, []);
        try
        {
            var ex = Assert.Throws<MalformedDataException>(() => ElfObjectFile.Open(path));
            Assert.Equal(path, ex.Path);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void SectionTableOutOfBoundsNamesTheTable()
    {
        var bytes = Image();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(40), (ulong)bytes.Length - 100); // e_shoff
        var ex = Assert.Throws<MalformedDataException>(() => ElfObjectFile.FromBytes(bytes, "bad-shoff"));
        Assert.Contains("Elf64_Shdr", ex.Structure);
        Assert.Contains("exceed", ex.Problem);
    }

    [Fact]
    public void SymbolNameOutsideStringTableNamesTheSymbol()
    {
        var bytes = Image();
        // Find the first STT_FUNC entry of the first SHT_SYMTAB/SHT_DYNSYM section and corrupt its st_name.
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(40));
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(60));
        for (int i = 0; i < shnum; i++)
        {
            var sh = bytes.AsSpan((int)shoff + i * 64, 64);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(sh[4..]);
            if (type is not (2 or 11)) continue;
            int off = (int)BinaryPrimitives.ReadUInt64LittleEndian(sh[24..]);
            int size = (int)BinaryPrimitives.ReadUInt64LittleEndian(sh[32..]);
            for (int k = 0; k < size / 24; k++)
            {
                var e = bytes.AsSpan(off + k * 24, 24);
                if ((e[4] & 0xf) == 2 && BinaryPrimitives.ReadUInt16LittleEndian(e[6..]) != 0 && BinaryPrimitives.ReadUInt32LittleEndian(e) != 0)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(e, 0x7fffffff);
                    var ex = Assert.Throws<MalformedDataException>(() => ElfObjectFile.FromBytes(bytes, "bad-sym"));
                    Assert.StartsWith($"Elf64_Sym[{k}] in .", ex.Structure);
                    Assert.Equal(off + k * 24, ex.Offset);
                    return;
                }
            }
        }
        Assert.Fail("no function symbol found to corrupt");
    }

    [Fact]
    public void SymbolizerDegradesToNoSymbolsWithWarning()
    {
        var dir = Directory.CreateTempSubdirectory("xenprof-bad-").FullName;
        try
        {
            var bad = Path.Combine(dir, "libbad.so");
            File.WriteAllBytes(bad, Image()[..40]);
            using var s = new Symbolizer(new SymbolizerOptions { UseSystemDebugRoot = false });
            Assert.Null(s.Resolve(bad, ObjectKind.Elf, 0x1000));
            Assert.Null(s.Resolve(bad, ObjectKind.Elf, 0x1004));
            var missing = Path.Combine(dir, "libmissing.so");
            Assert.Null(s.Resolve(missing, ObjectKind.Elf, 0x1000));
            Assert.Equal(2, s.Warnings.Count);
            Assert.Equal(bad, s.Warnings[0].Image);
            Assert.Contains("malformed", s.Warnings[0].Message);
            Assert.Contains("Elf64_Ehdr", s.Warnings[0].Message);
            Assert.Equal($"{missing}: not found; its samples stay unresolved", s.Warnings[1].ToString());
        }
        finally { Directory.Delete(dir, true); }
    }
}
