using Iced.Intel;

namespace XenProf.Reporter.Symbols;

/// <summary>
/// A function's machine code decoded with Iced from its start: the instruction list the annotator prints and
/// skid adjustment walks. Decoding is linear from the start, so an address that is not an instruction boundary
/// (inside an instruction, or inside data placed in code) belongs to the instruction that covers it.
/// </summary>
public sealed class FunctionDisassembly
{
    private readonly Instruction[] _instructions;
    private readonly ulong[] _starts;

    private FunctionDisassembly(ulong start, byte[] bytes, Instruction[] instructions)
    {
        Start = start;
        Bytes = bytes;
        _instructions = instructions;
        _starts = instructions.Select(i => i.IP).ToArray();
    }

    /// <summary>Address of the first byte (SVMA, or kernel/hypervisor address).</summary>
    public ulong Start { get; }

    /// <summary>The code bytes that were decoded.</summary>
    public byte[] Bytes { get; }

    /// <summary>The decoded instructions in address order (<see cref="Instruction.IP"/> is each one's address).</summary>
    public IReadOnlyList<Instruction> Instructions => _instructions;

    /// <summary>Number of instructions Iced could not decode (shown as <c>(bad)</c>, as objdump does).</summary>
    public int InvalidCount => _instructions.Count(i => i.IsInvalid);

    /// <summary>Decodes <paramref name="code"/> loaded at <paramref name="start"/>.</summary>
    /// <param name="code">The function's bytes.</param>
    /// <param name="start">Address of <c>code[0]</c>.</param>
    /// <param name="bitness">16, 32 or 64.</param>
    public static FunctionDisassembly Decode(ReadOnlySpan<byte> code, ulong start, int bitness = 64)
    {
        var bytes = code.ToArray();
        var decoder = Iced.Intel.Decoder.Create(bitness, new ByteArrayCodeReader(bytes), start, DecoderOptions.None);
        var list = new List<Instruction>();
        ulong end = start + (ulong)bytes.Length;
        while (decoder.IP < end)
        {
            decoder.Decode(out var ins);
            list.Add(ins);
        }
        return new FunctionDisassembly(start, bytes, list.ToArray());
    }

    /// <summary>Index of the instruction covering <paramref name="address"/>, or -1 outside the function.</summary>
    public int IndexOf(ulong address)
    {
        if (_starts.Length == 0 || address < _starts[0]) return -1;
        int i = Array.BinarySearch(_starts, address);
        if (i < 0) i = ~i - 1;
        var ins = _instructions[i];
        return address - ins.IP < (ulong)Math.Max(ins.Length, 1) ? i : -1;
    }

    /// <summary>
    /// Skid adjustment: the address a sample taken at <paramref name="address"/> is charged to when the event is
    /// imprecise and the reported IP is usually the instruction after the one that caused it. A sample on an
    /// instruction boundary moves to the preceding instruction; one inside an instruction (not a boundary, as a
    /// stale or odd IP can be) is folded onto that instruction; a sample on the first instruction or outside the
    /// function stays where it is.
    /// </summary>
    public ulong SkidAdjust(ulong address)
    {
        int i = IndexOf(address);
        if (i < 0) return address;
        if (_instructions[i].IP != address) return _instructions[i].IP;
        return i == 0 ? address : _instructions[i - 1].IP;
    }

    /// <summary>Bytes of instruction <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> InstructionBytes(int index)
    {
        var ins = _instructions[index];
        int off = (int)(ins.IP - Start);
        return Bytes.AsSpan(off, Math.Min(Math.Max(ins.Length, 1), Bytes.Length - off));
    }
}
