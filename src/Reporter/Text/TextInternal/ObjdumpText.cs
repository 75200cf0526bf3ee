using System.Text;
using System.Text.RegularExpressions;
using Iced.Intel;
using XenProf.Reporter.Text;

namespace XenProf.Reporter.Text.TextInternal;

/// <summary>
/// Formats instructions the way GNU objdump <c>-d</c> prints them, with Iced doing the decoding and the operand text:
/// <c>ADDR:\tBYTES\tMNEMONIC OPERANDS</c>, where ADDR is lowercase hex right-aligned in 8 columns, BYTES are up to
/// 7 bytes as <c>xx </c> padded to 21 columns (longer instructions continue on a second line holding only the
/// address and the remaining bytes), and the mnemonic is padded to 6 columns plus one space.
/// GAS syntax uses Iced's <see cref="GasFormatter"/> with RIP-relative addresses and lowercase hex, which matches
/// objdump's AT&amp;T text (docs/dependencies.md, Iced); Intel syntax uses <see cref="IntelFormatter"/> configured like
/// <c>objdump -M intel</c> (<c>QWORD PTR</c>, <c>0x</c> hex). Direct branch and call targets print as
/// <c>TARGET &lt;symbol+0xoff&gt;</c> and RIP-relative memory operands get objdump's <c>        # ADDR &lt;symbol&gt;</c>
/// comment, both through a caller-supplied resolver.
/// </summary>
internal sealed class ObjdumpText
{
    private readonly Formatter _formatter;
    private readonly StringOutput _out = new();
    private readonly Func<ulong, string?> _symbolFor;
    private readonly bool _gas;

    private static readonly string[] QSuffixed = ["pushq", "popq", "callq", "jmpq"];

    private static readonly HashSet<Code> MoffsMov = Enum.GetValues<Code>()
        .Where(c => c.ToString() is var n && n.StartsWith("Mov_", StringComparison.Ordinal) && n.Contains("moffs", StringComparison.Ordinal)).ToHashSet();

    private static readonly HashSet<Code> ShiftByOne = Enum.GetValues<Code>()
        .Where(c => c.ToString() is var n && n.EndsWith("_1", StringComparison.Ordinal)
            && (n.StartsWith("Rol_", StringComparison.Ordinal) || n.StartsWith("Ror_", StringComparison.Ordinal) || n.StartsWith("Rcl_", StringComparison.Ordinal)
                || n.StartsWith("Rcr_", StringComparison.Ordinal) || n.StartsWith("Shl_", StringComparison.Ordinal) || n.StartsWith("Sal_", StringComparison.Ordinal)
                || n.StartsWith("Shr_", StringComparison.Ordinal) || n.StartsWith("Sar_", StringComparison.Ordinal)))
        .ToHashSet();

    public ObjdumpText(AsmSyntax syntax, Func<ulong, string?> symbolFor)
    {
        _symbolFor = symbolFor;
        _gas = syntax == AsmSyntax.Gas;
        if (_gas)
        {
            var f = new GasFormatter();
            f.Options.RipRelativeAddresses = true;
            f.Options.UppercaseHex = false;
            f.Options.FirstOperandCharIndex = 7;
            f.Options.GasShowMnemonicSizeSuffix = false;
            f.Options.SmallHexNumbersInDecimal = false;
            f.Options.ShowZeroDisplacements = true;
            _formatter = f;
        }
        else
        {
            var f = new IntelFormatter();
            f.Options.RipRelativeAddresses = true;
            f.Options.UppercaseHex = false;
            f.Options.HexPrefix = "0x";
            f.Options.HexSuffix = "";
            f.Options.FirstOperandCharIndex = 7;
            f.Options.MemorySizeOptions = MemorySizeOptions.Always;
            f.Options.UppercaseKeywords = true;
            f.Options.SpaceAfterOperandSeparator = false;
            f.Options.ShowBranchSize = false;
            f.Options.SmallHexNumbersInDecimal = false;
            f.Options.ShowZeroDisplacements = true;
            _formatter = f;
        }
    }

    /// <summary>The instruction text only (mnemonic and operands, objdump spacing, with target and comment).</summary>
    public string Instruction(in Instruction ins)
    {
        if (ins.IsInvalid) return "(bad)";
        if (ins.Op0Kind is OpKind.NearBranch16 or OpKind.NearBranch32 or OpKind.NearBranch64 && ins.OpCount == 1)
        {
            _formatter.FormatMnemonic(ins, _out);
            var m = _out.ToStringAndReset();
            ulong target = ins.NearBranchTarget;
            var sym = _symbolFor(target);
            return m.PadRight(6) + " " + target.ToString("x") + (sym != null ? " <" + sym + ">" : "");
        }
        _formatter.Format(ins, _out);
        var text = _out.ToStringAndReset();
        if (!_gas && ins.MemoryIndex != Register.None && ins.MemoryIndexScale == 1)
        {
            // objdump -M intel always prints the index scale ([r9+rax*1-0x4]); Iced omits "*1".
            int open = text.IndexOf('['), close = text.IndexOf(']', Math.Max(open, 0));
            if (open >= 0 && close > open)
            {
                var idx = ins.MemoryIndex.ToString().ToLowerInvariant();
                var m = Regex.Matches(text[open..close], @"(?<=[\[+])" + idx + @"(?=[\]+-]|$)");
                if (m.Count > 0) text = text.Insert(open + m[^1].Index + idx.Length, "*1");
            }
        }
        if (!_gas)
        {
            // A 64-bit immediate or absolute-address mov is "movabs" in objdump's Intel syntax too.
            if (ins.CodeSize == CodeSize.Code64 && (ins.Code == Code.Mov_r64_imm64 || MoffsMov.Contains(ins.Code))
                && text.StartsWith("mov ", StringComparison.Ordinal))
                text = "movabs " + text[4..].TrimStart();
            // Shift-by-one forms: objdump -M intel prints the implicit count as a plain 1.
            if (ShiftByOne.Contains(ins.Code) && text.EndsWith(",0x1", StringComparison.Ordinal)) text = text[..^4] + ",1";
            // An absolute address with a segment override prints without brackets (fs:0x28).
            if (ins.MemoryBase == Register.None && ins.MemoryIndex == Register.None && ins.SegmentPrefix != Register.None)
                text = Regex.Replace(text, @"([cdefgs]s):\[(0x[0-9a-f]+)\]", "$1:$2");
            text = IgnoredSegmentPrefix(ins, text);
            text = IntelStringInstruction(ins) ?? text;
            // imul r,r,imm with a repeated register: Iced prints the two-operand short form, objdump all three.
            if (ins.Mnemonic == Mnemonic.Imul && ins.OpCount == 3 && ins.Op1Kind == OpKind.Register && ins.Op0Register == ins.Op1Register
                && text.Count(c => c == ',') == 1)
            {
                var r = ins.Op0Register.ToString().ToLowerInvariant();
                int at = text.IndexOf(r + ",", StringComparison.Ordinal);
                if (at >= 0) text = text.Insert(at + r.Length + 1, r + ",");
            }
            // objdump -M intel prints a negative RIP displacement as its unsigned 64-bit value ([rip+0xffffffffffffedb2]).
            if (ins.IsIPRelativeMemoryOperand)
                text = Regex.Replace(text, @"\[rip-0x([0-9a-f]+)\]", m => $"[rip+0x{unchecked(0UL - Convert.ToUInt64(m.Groups[1].Value, 16)):x}]");
        }
        if (_gas)
        {
            // Where objdump (binutils 2.40) and Iced's GAS text differ: objdump always prints the scale of an index
            // register (Iced omits ",1"); it prints the D0/D1/D2/D3 shift-by-one forms without the implicit $0x1, and
            // push/pop/call/jmp with a memory or immediate operand without the q suffix (implied in 64-bit mode).
            if (ins.MemoryIndex != Register.None && ins.MemoryIndexScale == 1)
            {
                var idx = ",%" + ins.MemoryIndex.ToString().ToLowerInvariant() + ")";
                text = text.Replace(idx, idx[..^1] + ",1)", StringComparison.Ordinal);
            }
            text = IgnoredSegmentPrefix(ins, text);
            if (ShiftByOne.Contains(ins.Code)) text = text.Replace("$0x1,", "", StringComparison.Ordinal);
            // String instructions: objdump names the implicit segments (%es:(%rdi), %ds:(%rsi)); Iced leaves them out.
            bool esDi = false, dsSi = false;
            for (int i = 0; i < ins.OpCount; i++)
            {
                var k = ins.GetOpKind(i);
                esDi |= k is OpKind.MemoryESRDI or OpKind.MemoryESEDI or OpKind.MemoryESDI;
                dsSi |= k is OpKind.MemorySegRSI or OpKind.MemorySegESI or OpKind.MemorySegSI;
            }
            if (esDi) text = Regex.Replace(text, @"(?<!:)\((%[re]?di)\)", "%es:($1)");
            if (dsSi) text = Regex.Replace(text, @"(?<!:)\((%[re]?si)\)", "%ds:($1)");
            // Port I/O through DX: objdump writes the port as (%dx).
            if (ins.Mnemonic is Mnemonic.In or Mnemonic.Out) text = Regex.Replace(text, @"(?<!\()%dx\b", "(%dx)");
            // imul $imm,%r,%r: Iced prints the two-operand GAS short form, objdump all three operands.
            if (ins.Mnemonic == Mnemonic.Imul && ins.OpCount == 3 && ins.Op1Kind == OpKind.Register && ins.Op0Register == ins.Op1Register
                && text.Count(c => c == ',') == 1)
                text += ",%" + ins.Op0Register.ToString().ToLowerInvariant();
            foreach (var q in QSuffixed)
                if (text.StartsWith(q, StringComparison.Ordinal) && text.Length > q.Length && text[q.Length] == ' ')
                {
                    text = (q[..^1] + " ").PadRight(7) + text[(q.Length + 1)..].TrimStart();
                    break;
                }
        }
        if (ins.IsIPRelativeMemoryOperand)
        {
            ulong addr = ins.IPRelativeMemoryAddress;
            var sym = _symbolFor(addr);
            text += "        # " + addr.ToString("x") + (sym != null ? " <" + sym + ">" : "");
        }
        return text;
    }

    /// <summary>
    /// String instructions as objdump -M intel prints them: generic mnemonic, explicit operands with their implicit
    /// segments (<c>rep stos QWORD PTR es:[rdi],rax</c>); Iced prints the sized mnemonic (<c>rep stosq</c>). Null when
    /// <paramref name="ins"/> is not a stos/lods/movs/scas/cmps string form.
    /// </summary>
    private static string? IntelStringInstruction(in Instruction ins)
    {
        string? di = null, si = null;
        for (int i = 0; i < ins.OpCount; i++)
            switch (ins.GetOpKind(i))
            {
                case OpKind.MemoryESRDI: di = "rdi"; break;
                case OpKind.MemoryESEDI: di = "edi"; break;
                case OpKind.MemorySegRSI: si = "rsi"; break;
                case OpKind.MemorySegESI: si = "esi"; break;
            }
        if (di == null && si == null) return null;
        var m = ins.Mnemonic.ToString().ToLowerInvariant();
        if (m.Length != 5) return null;
        string op = m[..4];
        (string size, string reg) = m[4] switch { 'b' => ("BYTE", "al"), 'w' => ("WORD", "ax"), 'd' => ("DWORD", "eax"), 'q' => ("QWORD", "rax"), _ => ("", "") };
        if (size.Length == 0) return null;
        string es = $"{size} PTR es:[{di}]", ds = $"{size} PTR ds:[{si}]";
        string? ops = op switch
        {
            "stos" => $"{es},{reg}",
            "lods" => $"{reg},{ds}",
            "movs" => $"{es},{ds}",
            "scas" => $"{reg},{es}",
            "cmps" => $"{ds},{es}",
            _ => null,
        };
        if (ops == null) return null;
        string prefix = ins.HasRepePrefix ? (op is "cmps" or "scas" ? "repz " : "rep ") : ins.HasRepnePrefix ? "repnz " : "";
        return (prefix + op).PadRight(6) + " " + ops;
    }

    /// <summary>objdump names each operand-size prefix (0x66) beyond the first "data16" (the padding
    /// <c>66 66 2e 0f 1f 84 …</c> prints as <c>data16 cs nopw …</c>); Iced drops them silently.</summary>
    private static string RepeatedOperandSize(ReadOnlySpan<byte> bytes, string text)
    {
        int count = 0;
        foreach (var b in bytes)
        {
            if (b == 0x66) count++;
            else if (b is not (0x67 or 0x2e or 0x3e or 0x26 or 0x36 or 0x64 or 0x65 or 0xf0 or 0xf2 or 0xf3)) break;
        }
        if (count < 2) return text;
        text = Regex.Replace(text, @"^(\S+)\s+", "$1 ");
        for (int i = 1; i < count; i++) text = "data16 " + text;
        return text;
    }

    /// <summary>A segment override that 64-bit mode ignores is printed by objdump as a prefix word ("cs nopw …").</summary>
    private static string IgnoredSegmentPrefix(in Instruction ins, string text)
    {
        if (ins.SegmentPrefix is not (Register.CS or Register.DS or Register.ES or Register.SS) || ins.CodeSize != CodeSize.Code64) return text;
        var seg = ins.SegmentPrefix.ToString().ToLowerInvariant();
        if (text.Contains(seg + ':', StringComparison.Ordinal)) return text;
        int sp = text.IndexOf(' ');
        var mn = sp < 0 ? text : text[..sp];
        var ops = sp < 0 ? "" : text[sp..].TrimStart();
        return (seg + " " + mn).PadRight(6) + " " + ops;
    }

    /// <summary>objdump's full line(s) for one instruction: address, bytes, text (a second line for bytes past 7).</summary>
    public void Lines(in Instruction ins, ReadOnlySpan<byte> bytes, List<string> into)
    {
        var sb = new StringBuilder();
        sb.Append(ins.IP.ToString("x").PadLeft(8)).Append(":\t");
        int first = Math.Min(7, bytes.Length);
        for (int i = 0; i < first; i++) sb.Append(bytes[i].ToString("x2")).Append(' ');
        sb.Append(' ', (7 - first) * 3).Append('\t').Append(RepeatedOperandSize(bytes, Instruction(ins)));
        into.Add(sb.ToString());
        if (bytes.Length > 7)
        {
            sb.Clear();
            sb.Append((ins.IP + 7).ToString("x").PadLeft(8)).Append(":\t");
            for (int i = 7; i < bytes.Length; i++) sb.Append(bytes[i].ToString("x2")).Append(' ');
            into.Add(sb.ToString().TrimEnd());
        }
    }
}
