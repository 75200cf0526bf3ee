using System.Globalization;
using System.Text.RegularExpressions;
using XenProf.Hypervisor.Binary;

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
/// first. A source line under a frame (<c>-F +srcline</c>) is passed over.
/// <para>
/// Bad lines never become samples. Every number is range-checked (pid, tid and cpu 0..2³¹−1, the time's seconds so
/// that nanoseconds fit 63 bits, the period 0..2⁶³−1, the IP 64 bits). perf prints the same fields on every event
/// line of a file, so once a sample showed an event name and a time, a line without them is not an event line (junk
/// such as <c>hello world 42</c> or <c>x 1 nan:</c> otherwise reads as a sample). Lines that are none of these are
/// skipped and counted in <see cref="SkippedLines"/>; an event line with an out-of-range field is skipped together
/// with its frames (<see cref="SkippedSamples"/>), and <see cref="FirstProblem"/> says what the first skipped line was
/// and where. With <see cref="Strict"/> the first such line throws that <see cref="MalformedDataException"/> instead.
/// </para>
/// </summary>
public sealed class PerfScriptReader
{
    private static readonly Regex Header = new(
        @"^\s*(?<comm>\S.*?)\s+(?:(?<pid>\d+)/)?(?<tid>\d+)\s+(?:\[(?<cpu>\d+)\]\s+)?(?:(?<time>\d+\.\d+):\s+)?(?:(?<period>\d+)\s+)?(?<event>[^\s:][^\s]*?):(?:\s+(?<rest>.*?))?\s*$",
        RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture | RegexOptions.NonBacktracking);
    private static readonly Regex HeaderNoEvent = new(
        @"^(?<comm>\S.*?)\s+(?:(?<pid>\d+)/)?(?<tid>\d+)(?:\s+\[(?<cpu>\d+)\])?(?:\s+(?<time>\d+\.\d+):)?(?:\s+(?<rest>.*?))?\s*$",
        RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture | RegexOptions.NonBacktracking);
    private static readonly Regex FrameLine = new(@"^\s*(?<ip>[0-9a-fA-F]+)\s+(?<rest>.*?)\s*$", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture | RegexOptions.NonBacktracking);
    private static readonly Regex SymOffset = new(@"\+0x[0-9a-fA-F]+$", RegexOptions.CultureInvariant);

    private const string EventLine = "perf script event line", FrameLineName = "perf script frame line";
    private bool _shapeLocked, _hasEvent, _hasTime;
    private long _shapeLine;

    /// <summary>A reader for text from <paramref name="path"/> (named in errors); <paramref name="strict"/> makes the first
    /// bad line an error.</summary>
    public PerfScriptReader(string path = "perf script", bool strict = false)
    {
        Path = path;
        Strict = strict;
    }

    /// <summary>File named in errors.</summary>
    public string Path { get; }

    /// <summary>Throw at the first line that does not parse instead of skipping it.</summary>
    public bool Strict { get; }

    /// <summary>Lines skipped: neither an event line, a frame, a source line, blank nor a comment, or part of a skipped sample.</summary>
    public long SkippedLines { get; private set; }

    /// <summary>Event lines skipped (with their frames) because a field was out of range.</summary>
    public long SkippedSamples { get; private set; }

    /// <summary>Why the first skipped line was skipped, with the file and line; null when none was.</summary>
    public MalformedDataException? FirstProblem { get; private set; }

    /// <summary>Lines read so far.</summary>
    public long Lines { get; private set; }

    /// <summary>Streams the samples of <paramref name="reader"/>.</summary>
    public IEnumerable<PerfScriptSample> Read(TextReader reader)
    {
        PerfScriptSample? current = null;
        List<PerfScriptFrame> frames = [];
        string? line;
        bool afterFrame = false, discarding = false;
        while ((line = reader.ReadLine()) != null)
        {
            Lines++;
            if (line.StartsWith('#')) continue;
            if (line.Trim().Length == 0)
            {
                afterFrame = discarding = false;
                if (current != null) { yield return current with { Frames = frames }; current = null; frames = []; }
                continue;
            }
            bool indented = char.IsWhiteSpace(line[0]);
            var h = TryHeader(line, indented, current != null || discarding, out var header, out var rest, out var problem);
            if (h == HeaderResult.Sample)
            {
                if (current != null) { yield return current with { Frames = frames }; frames = []; }
                discarding = false;
                current = header;
                afterFrame = rest.Length > 0 && TryFrame(rest, frames);
                continue;
            }
            if (h == HeaderResult.OutOfRange)
            {
                // A sample whose event line is wrong: it and its frames are dropped, not merged into the previous one.
                if (current != null) { yield return current with { Frames = frames }; current = null; frames = []; }
                Skip(EventLine, problem!);
                SkippedSamples++;
                discarding = true;
                afterFrame = false;
                continue;
            }
            if (discarding) { SkippedLines++; continue; }
            if (current != null && TryFrame(line, frames)) { afterFrame = true; continue; }
            // -F +srcline prints each frame's source line under it ("  file.c:251", "  [kernel.kallsyms][ffff…]").
            if (afterFrame && indented) { afterFrame = false; continue; }
            Skip(h == HeaderResult.WrongShape ? EventLine : current != null ? FrameLineName : EventLine,
                problem ?? (current != null ? "neither a frame (IP SYMBOL (DSO)) nor an event line" : "not an event line (COMM [PID/]TID [CPU] TIME: [PERIOD] EVENT:)"));
        }
        if (current != null) yield return current with { Frames = frames };
    }

    private void Skip(string structure, string problem)
    {
        SkippedLines++;
        var e = MalformedDataException.AtLine(Path, Lines, structure, problem);
        if (Strict) throw e;
        FirstProblem ??= e;
    }

    private enum HeaderResult { None, Sample, OutOfRange, WrongShape }

    private HeaderResult TryHeader(string line, bool indented, bool inSample, out PerfScriptSample sample, out string rest, out string? problem)
    {
        sample = null!;
        rest = "";
        problem = null;
        var m = Header.Match(line);
        // An indented line is a frame unless it is a whole one-line sample (-F without a callchain, indented comm).
        if (m.Success && indented && !m.Groups["rest"].Success && FrameLine.IsMatch(line)) m = Match.Empty;
        // Event lines without an event name (-F without event) start at column 0; so do frames in some old outputs,
        // which inside a sample win when the line ends in a "(dso)".
        if (!m.Success && !indented && !(inSample && FrameLine.IsMatch(line) && line.TrimEnd().EndsWith(')'))) m = HeaderNoEvent.Match(line);
        if (!m.Success) return HeaderResult.None;
        bool hasEvent = m.Groups["event"].Success, hasTime = m.Groups["time"].Success;
        if (_shapeLocked && ((_hasEvent && !hasEvent) || (_hasTime && !hasTime)))
        {
            problem = $"has no {(_hasEvent && !hasEvent ? "event name" : "time")}, unlike the event lines from line {_shapeLine} on: not an event line";
            return HeaderResult.WrongShape;
        }
        var inv = CultureInfo.InvariantCulture;
        if (!TryInt(m.Groups["tid"], "tid", out var tid, ref problem)
            | !TryOptionalInt(m.Groups["pid"], "pid", out var pid, ref problem)
            | !TryOptionalInt(m.Groups["cpu"], "cpu", out var cpu, ref problem))
            return HeaderResult.OutOfRange;
        long? time = null;
        if (hasTime)
        {
            if (!TryParseSeconds(m.Groups["time"].Value, out var t)) { problem = $"time {m.Groups["time"].Value} s is out of range (up to {long.MaxValue / 1_000_000_000} s)"; return HeaderResult.OutOfRange; }
            time = t;
        }
        long? period = null;
        if (m.Groups["period"].Success)
        {
            if (!long.TryParse(m.Groups["period"].ValueSpan, NumberStyles.None, inv, out var p)) { problem = $"period {m.Groups["period"].Value} is out of range (0..{long.MaxValue})"; return HeaderResult.OutOfRange; }
            period = p;
        }
        string? ev = hasEvent ? m.Groups["event"].Value : null;
        rest = m.Groups["rest"].Success ? m.Groups["rest"].Value : "";
        if (!_shapeLocked) { _shapeLocked = true; _hasEvent = hasEvent; _hasTime = hasTime; _shapeLine = Lines; }
        sample = new PerfScriptSample(m.Groups["comm"].Value.Trim(), pid, tid, cpu, time, period, ev, [], Lines);
        return HeaderResult.Sample;
    }

    private static bool TryInt(Group g, string name, out int value, ref string? problem)
    {
        if (int.TryParse(g.ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out value)) return true;
        problem ??= $"{name} {g.Value} is out of range (0..{int.MaxValue})";
        return false;
    }

    private static bool TryOptionalInt(Group g, string name, out int? value, ref string? problem)
    {
        value = null;
        if (!g.Success) return true;
        if (!TryInt(g, name, out var v, ref problem)) return false;
        value = v;
        return true;
    }

    /// <summary>perf prints <c>secs.usecs</c> (or nsecs with <c>--ns</c>); to nanoseconds without rounding through a double.
    /// False when the nanoseconds do not fit a <see cref="long"/>.</summary>
    private static bool TryParseSeconds(string s, out long ns)
    {
        ns = 0;
        int dot = s.IndexOf('.');
        if (!long.TryParse(s.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var secs) || secs > long.MaxValue / 1_000_000_000) return false;
        var frac = s[(dot + 1)..];
        frac = frac.Length >= 9 ? frac[..9] : frac.PadRight(9, '0');
        long f = long.Parse(frac, NumberStyles.None, CultureInfo.InvariantCulture); // nine digits always fit
        if (secs * 1_000_000_000 > long.MaxValue - f) return false;
        ns = secs * 1_000_000_000 + f;
        return true;
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
