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
/// objdump's AT&amp;T text (dependencies.md §3); Intel syntax uses <see cref="IntelFormatter"/> configured like
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
        if (_gas)
        {
            // objdump prints the D0/D1/D2/D3 shift-by-one forms without the implicit $0x1, and push/pop/call/jmp
            // with a memory or immediate operand without Iced's q suffix (binutils 2.40: the size is implied in 64-bit mode).
            // objdump always prints the scale of an index register, Iced omits ",1".
            if (ins.MemoryIndex != Register.None && ins.MemoryIndexScale == 1)
            {
                var idx = ",%" + ins.MemoryIndex.ToString().ToLowerInvariant() + ")";
                text = text.Replace(idx, idx[..^1] + ",1)", StringComparison.Ordinal);
            }
            // A segment override that 64-bit mode ignores is printed by objdump as a prefix word ("cs nopw …").
            if (ins.SegmentPrefix is Register.CS or Register.DS or Register.ES or Register.SS && ins.CodeSize == CodeSize.Code64
                && !text.Contains('%' + ins.SegmentPrefix.ToString().ToLowerInvariant() + ':', StringComparison.Ordinal))
            {
                int sp = text.IndexOf(' ');
                var mn = sp < 0 ? text : text[..sp];
                var ops = sp < 0 ? "" : text[sp..].TrimStart();
                text = (ins.SegmentPrefix.ToString().ToLowerInvariant() + " " + mn).PadRight(6) + " " + ops;
            }
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

    /// <summary>objdump's full line(s) for one instruction: address, bytes, text (a second line for bytes past 7).</summary>
    public void Lines(in Instruction ins, ReadOnlySpan<byte> bytes, List<string> into)
    {
        var sb = new StringBuilder();
        sb.Append(ins.IP.ToString("x").PadLeft(8)).Append(":\t");
        int first = Math.Min(7, bytes.Length);
        for (int i = 0; i < first; i++) sb.Append(bytes[i].ToString("x2")).Append(' ');
        sb.Append(' ', (7 - first) * 3).Append('\t').Append(Instruction(ins));
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
