using XenProf.Reporter.Profile;
namespace XenProf.Reporter.Flame.FlameInternal;

/// <summary>
/// The folded-stack line syntax (FlameGraph's stackcollapse-perf.pl output, flamegraph.pl input): frames joined by ';', one space, a count; kind
/// annotations as name suffixes.
/// </summary>
internal static class FoldedSyntax
{
    public const char Separator = ';';

    /// <summary>What a ';' inside a frame name becomes (stackcollapse-perf.pl replaces it with ':' too).</summary>
    public const char SeparatorReplacement = ':';

    /// <summary>What a line break inside a frame name becomes.</summary>
    public const char LineBreakReplacement = ' ';

    public static string? Suffix(FrameKind kind) => kind switch
    {
        FrameKind.Kernel => "_[k]",
        FrameKind.Jit => "_[j]",
        FrameKind.Hypervisor => "_[h]",
        FrameKind.Guest => "_[g]",
        _ => null,
    };

    /// <summary>Recognizes a trailing kind annotation; returns the kind and the name length without it.</summary>
    public static bool TryStripSuffix(ReadOnlySpan<char> frame, out FrameKind kind, out int nameLength)
    {
        kind = FrameKind.User;
        nameLength = frame.Length;
        if (frame.Length < 4 || frame[^4] != '_' || frame[^3] != '[' || frame[^1] != ']')
        {
            return false;
        }

        switch (frame[^2])
        {
            case 'k': kind = FrameKind.Kernel; break;
            case 'j': kind = FrameKind.Jit; break;
            case 'h': kind = FrameKind.Hypervisor; break;
            case 'g': kind = FrameKind.Guest; break;
            default: return false;
        }

        nameLength = frame.Length - 4;
        return true;
    }

    /// <summary>Appends <paramref name="name"/> with ';' → ':' and CR, LF → ' ' (so a name can never split a frame or a line).</summary>
    public static void AppendName(System.Text.StringBuilder sb, string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return;
        }

        if (name.AsSpan().IndexOfAny(";\r\n") < 0)
        {
            sb.Append(name);
            return;
        }

        foreach (char c in name)
        {
            sb.Append(c switch
            {
                Separator => SeparatorReplacement,
                '\r' or '\n' => LineBreakReplacement,
                _ => c,
            });
        }
    }
}
