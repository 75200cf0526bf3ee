using System.Buffers.Binary;

namespace XenProf.Sampler.Attribution;

/// <summary>
/// Reads the GNU build-id of an ELF file (the NT_GNU_BUILD_ID = 3 note, owner "GNU", in a PT_NOTE segment; layout per
/// the System V gABI and elf.h) so live sessions can record each image's build-id without asking the kernel for
/// build-id MMAP2 records. Only what that needs: ELF64 little-endian, program headers, notes. Never throws for a
/// missing, unreadable or non-ELF file: it returns null.
/// </summary>
public static class ElfBuildId
{
    /// <summary>The build-id as lowercase hex, or null when the file has none or cannot be read.</summary>
    public static string? TryRead(string path)
    {
        try
        {
            using var f = File.OpenRead(path);
            Span<byte> eh = stackalloc byte[64];
            if (f.Read(eh) < 64 || eh[0] != 0x7f || eh[1] != (byte)'E' || eh[2] != (byte)'L' || eh[3] != (byte)'F' || eh[4] != 2 || eh[5] != 1)
                return null; // not ELF64 little-endian
            ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(eh[32..]);
            int phentsize = BinaryPrimitives.ReadUInt16LittleEndian(eh[54..]);
            int phnum = BinaryPrimitives.ReadUInt16LittleEndian(eh[56..]);
            if (phentsize < 56 || phnum is 0 or > 256 || phoff == 0) return null;
            var ph = new byte[phentsize * phnum];
            f.Position = (long)phoff;
            if (f.Read(ph) != ph.Length) return null;
            for (int i = 0; i < phnum; i++)
            {
                var p = ph.AsSpan(i * phentsize);
                if (BinaryPrimitives.ReadUInt32LittleEndian(p) != 4) continue; // PT_NOTE
                ulong off = BinaryPrimitives.ReadUInt64LittleEndian(p[8..]);
                ulong size = BinaryPrimitives.ReadUInt64LittleEndian(p[32..]);
                if (size is 0 or > 1 << 16) continue;
                var notes = new byte[size];
                f.Position = (long)off;
                if (f.Read(notes) != notes.Length) continue;
                if (FindBuildId(notes) is { } id) return id;
            }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) { return null; }
    }

    private static string? FindBuildId(ReadOnlySpan<byte> notes)
    {
        int pos = 0;
        while (pos + 12 <= notes.Length)
        {
            uint namesz = BinaryPrimitives.ReadUInt32LittleEndian(notes[pos..]);
            uint descsz = BinaryPrimitives.ReadUInt32LittleEndian(notes[(pos + 4)..]);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(notes[(pos + 8)..]);
            long name = pos + 12, desc = name + ((namesz + 3) & ~3u), next = desc + ((descsz + 3) & ~3u);
            if (next > notes.Length || desc + descsz > notes.Length) return null;
            if (type == 3 && namesz == 4 && notes.Slice((int)name, 3).SequenceEqual("GNU"u8))
                return Convert.ToHexStringLower(notes.Slice((int)desc, (int)descsz));
            pos = (int)next;
        }
        return null;
    }
}
