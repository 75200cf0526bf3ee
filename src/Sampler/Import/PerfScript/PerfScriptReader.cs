using System.Globalization;
using System.Text.RegularExpressions;

namespace XenProf.Sampler.Import.PerfScript;

/// <summary>One frame of a <c>perf script</c> sample: the IP, the symbol as perf printed it (offset removed; null for
/// <c>[unknown]</c> or no symbol), the dso, and whether perf marked it inlined.</summary>
public readonly record struct PerfScriptFrame(ulong Ip, string? Symbol, string Dso, bool Inlined);

/// <summary>
/// One sample of <c>perf script</c> text. <see cref="Pid"/> is null when the event line shows only the thread id
/// (perf script's default fields); <see cref="TimeNs"/> and <see cref="Cpu"/> are null when not shown.
/// <see cref="Frames"/> are leaf first, as perf prints them.
/// </summary>
public sealed record PerfScriptSample(string Comm, int? Pid, int Tid, int? Cpu, long? TimeNs, long? Period, string? Event,
    IReadOnlyList<PerfScriptFrame> Frames, long Line);

/// <summary>
/// Reads <c>perf script</c> text sample by sample (tools/perf/Documentation/perf-script.txt; the input FlameGraph's stackcollapse-perf.pl reads): the default fields and <c>-F</c> variants, with and
/// without callchains. An event line is <c>comm [pid/]tid [[cpu]] [time:] [period] [event:]</c>, followed by the
/// sample's frame on the same line (no callchain) or one frame per line (indented, except in some old outputs)
/// <c>ip sym[+off] (dso)</c>, ending at a blank line, the next event line or the end. Inlined frames appear as
/// lines ending in <c>(inlined)</c> (perf's <c>sample__fprintf_callchain</c>) or as <c>outer-&gt;inner</c> chains
/// in one symbol (the older srcline dialect stackcollapse-perf.pl splits); both become separate frames, innermost
/// first. A source line under a frame (<c>-F +srcline</c>) is passed over. Lines that are none of these are counted in
/// <see cref="SkippedLines"/>.
/// </summary>
public sealed class PerfScriptReader
{
    private static readonly Regex Header = new(
        @"^\s*(?<comm>\S.*?)\s+(?:(?<pid>\d+)/)?(?<tid>\d+)\s+(?:\[(?<cpu>\d+)\]\s+)?(?:(?<time>\d+\.\d+):\s+)?(?:(?<period>\d+)\s+)?(?<event>[^\s:][^\s]*?):(?:\s+(?<rest>.*?))?\s*$",
        RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture);
    private static readonly Regex HeaderNoEvent = new(
        @"^(?<comm>\S.*?)\s+(?:(?<pid>\d+)/)?(?<tid>\d+)(?:\s+\[(?<cpu>\d+)\])?(?:\s+(?<time>\d+\.\d+):)?(?:\s+(?<rest>.*?))?\s*$",
        RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture);
    private static readonly Regex FrameLine = new(@"^\s*(?<ip>[0-9a-fA-F]+)\s+(?<rest>.*?)\s*$", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture);
    private static readonly Regex SymOffset = new(@"\+0x[0-9a-fA-F]+$", RegexOptions.CultureInvariant);

    /// <summary>Lines that were neither an event line, a frame nor blank or a comment.</summary>
    public long SkippedLines { get; private set; }

    /// <summary>Lines read so far.</summary>
    public long Lines { get; private set; }

    /// <summary>Streams the samples of <paramref name="reader"/>.</summary>
    public IEnumerable<PerfScriptSample> Read(TextReader reader)
    {
        PerfScriptSample? current = null;
        List<PerfScriptFrame> frames = [];
        string? line;
        bool afterFrame = false;
        while ((line = reader.ReadLine()) != null)
        {
            Lines++;
            if (line.StartsWith('#')) continue;
            if (line.Trim().Length == 0)
            {
                afterFrame = false;
                if (current != null) { yield return current with { Frames = frames }; current = null; frames = []; }
                continue;
            }
            bool indented = char.IsWhiteSpace(line[0]);
            if (TryHeader(line, indented, current != null, out var header, out var rest))
            {
                if (current != null) { yield return current with { Frames = frames }; frames = []; }
                current = header;
                afterFrame = rest.Length > 0 && TryFrame(rest, frames);
                continue;
            }
            if (current != null && TryFrame(line, frames)) { afterFrame = true; continue; }
            // -F +srcline prints each frame's source line under it ("  file.c:251", "  [kernel.kallsyms][ffff…]").
            if (afterFrame && indented) { afterFrame = false; continue; }
            SkippedLines++;
        }
        if (current != null) yield return current with { Frames = frames };
    }

    private bool TryHeader(string line, bool indented, bool inSample, out PerfScriptSample sample, out string rest)
    {
        sample = null!;
        rest = "";
        var m = Header.Match(line);
        // An indented line is a frame unless it is a whole one-line sample (-F without a callchain, indented comm).
        if (m.Success && indented && !m.Groups["rest"].Success && FrameLine.IsMatch(line)) m = Match.Empty;
        // Event lines without an event name (-F without event) start at column 0; so do frames in some old outputs,
        // which inside a sample win when the line ends in a "(dso)".
        if (!m.Success && !indented && !(inSample && FrameLine.IsMatch(line) && line.TrimEnd().EndsWith(')'))) m = HeaderNoEvent.Match(line);
        if (!m.Success) return false;
        var inv = CultureInfo.InvariantCulture;
        int tid = int.Parse(m.Groups["tid"].ValueSpan, inv);
        int? pid = m.Groups["pid"].Success ? int.Parse(m.Groups["pid"].ValueSpan, inv) : null;
        int? cpu = m.Groups["cpu"].Success ? int.Parse(m.Groups["cpu"].ValueSpan, inv) : null;
        long? time = m.Groups["time"].Success ? ParseSeconds(m.Groups["time"].Value) : null;
        long? period = m.Groups["period"].Success && long.TryParse(m.Groups["period"].ValueSpan, inv, out var p) ? p : null;
        string? ev = m.Groups["event"].Success ? m.Groups["event"].Value : null;
        rest = m.Groups["rest"].Success ? m.Groups["rest"].Value : "";
        sample = new PerfScriptSample(m.Groups["comm"].Value.Trim(), pid, tid, cpu, time, period, ev, [], Lines);
        return true;
    }

    /// <summary>perf prints <c>secs.usecs</c> (or nsecs with <c>--ns</c>); to nanoseconds without rounding through a double.</summary>
    private static long ParseSeconds(string s)
    {
        int dot = s.IndexOf('.');
        long secs = long.Parse(s.AsSpan(0, dot), CultureInfo.InvariantCulture);
        var frac = s[(dot + 1)..];
        frac = frac.Length >= 9 ? frac[..9] : frac.PadRight(9, '0');
        return secs * 1_000_000_000 + long.Parse(frac, CultureInfo.InvariantCulture);
    }

    private static bool TryFrame(string line, List<PerfScriptFrame> frames)
    {
        var m = FrameLine.Match(line);
        if (!m.Success) return false;
        var text = m.Groups["rest"].Value;
        bool inlined = false;
        if (text.EndsWith(" (inlined)", StringComparison.Ordinal)) { inlined = true; text = text[..^10].TrimEnd(); }
        // The dso is the last balanced parenthesized group: "/memfd:doublemapper (deleted)" keeps its own parentheses.
        string dso = "[unknown]", sym = text;
        if (text.EndsWith(')'))
        {
            int depth = 0, open = -1;
            for (int i = text.Length - 1; i >= 0; i--)
            {
                if (text[i] == ')') depth++;
                else if (text[i] == '(' && --depth == 0) { open = i; break; }
            }
            if (open >= 0 && (open == 0 || char.IsWhiteSpace(text[open - 1])))
            {
                dso = text[(open + 1)..^1];
                sym = text[..open].TrimEnd();
            }
        }
        if (!ulong.TryParse(m.Groups["ip"].ValueSpan, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var ip)) return false;
        sym = SymOffset.Replace(sym, "", 1);
        if (sym.Length == 0 || sym == "[unknown]")
        {
            frames.Add(new PerfScriptFrame(ip, null, dso, inlined));
            return true;
        }
        // "outer->inner" chains: innermost first, all but the outer one inlined into it.
        var chain = sym.Split("->");
        for (int i = chain.Length - 1; i >= 0; i--)
            frames.Add(new PerfScriptFrame(ip, chain[i], dso, inlined || i > 0));
        return true;
    }
}
