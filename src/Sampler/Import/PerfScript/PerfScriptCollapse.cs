using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace XenProf.Sampler.Import.PerfScript;

/// <summary>Which collapser's choices to follow where the two reference collapsers of <c>perf script</c> text disagree.</summary>
public enum CollapseDialect
{
    /// <summary>
    /// FlameGraph's stackcollapse-perf.pl (HEAD, 41fee1f): a stack is emitted only when a blank line ends it; argument
    /// lists are cut at the first <c>(</c>; quotes are deleted; only <c>/tmp/perf-PID.map</c> is JIT.
    /// </summary>
    FlameGraph,
    /// <summary>
    /// inferno's collapse-perf (929be68): the last stack is emitted at end of input; a <c>(</c> inside template
    /// brackets is kept; quotes are kept; legacy Rust escapes (<c>$LT$</c>, <c>..</c>) are demangled and their
    /// <c>::h&lt;hash&gt;</c> suffix dropped; a versioned <c>vmlinux-X.Y</c> is kernel;
    /// <c>/tmp/jitted-PID-N.so</c> (perf inject --jit) is JIT too.
    /// </summary>
    Inferno,
}

/// <summary>Options of <see cref="PerfScriptCollapse"/>, named as stackcollapse-perf.pl's flags; the defaults are its defaults.</summary>
public sealed record CollapseOptions
{
    /// <summary><c>--pid</c>: root frame <c>comm-PID</c> (<c>comm-?</c> when the event line shows only the thread id).</summary>
    public bool Pid { get; init; }
    /// <summary><c>--tid</c>: root frame <c>comm-PID/TID</c> (wins over <see cref="Pid"/>).</summary>
    public bool Tid { get; init; }
    /// <summary><c>--kernel</c>: kernel frames (dso in brackets, or ending in <c>vmlinux</c>; not <c>[unknown]</c>) get <c>_[k]</c>.</summary>
    public bool Kernel { get; init; }
    /// <summary><c>--jit</c>: frames of a <c>/tmp/perf-PID.map</c> get <c>_[j]</c>.</summary>
    public bool Jit { get; init; }
    /// <summary><c>--addrs</c>: unknown frames show their address, <c>[dso &lt;ip&gt;]</c>.</summary>
    public bool Addrs { get; init; }
    /// <summary>
    /// <c>--inline</c>: frames of files (not a perf map, not the kernel, not a bracketed dso) are expanded into their inline
    /// chain by <c>addr2line -a IP -e DSO -i -f -s -C</c>, outermost first; when addr2line knows nothing and perf printed
    /// <c>sym+0xOFF</c>, the address is retried as the symbol's <c>nm</c> value plus OFF. FlameGraph dialect only.
    /// </summary>
    public bool Inline { get; init; }
    /// <summary><c>--context</c>: with <see cref="Inline"/>, each inline frame is <c>function:file:line</c>.</summary>
    public bool Context { get; init; }
    /// <summary><c>--srcline</c>: the input is <c>perf script -F+srcline</c>; the line under each known frame is appended as <c>:file:line</c>. FlameGraph dialect only.</summary>
    public bool Srcline { get; init; }
    /// <summary><c>--event-filter</c>: keep only this event (default: the first event seen; the others are dropped with a warning).</summary>
    public string? EventFilter { get; init; }
    /// <summary>Where the reference collapsers differ.</summary>
    public CollapseDialect Dialect { get; init; } = CollapseDialect.FlameGraph;
    /// <summary>Count each sample once, ignoring the period its event line shows (the reference collapsers sum periods);
    /// how the session store counts samples.</summary>
    public bool CountSamples { get; init; }
    /// <summary>Runs addr2line and nm for <see cref="Inline"/>; null = the binutils on this machine's PATH.</summary>
    public IBinutils? Binutils { get; init; }
}

/// <summary>
/// The two binutils commands stackcollapse-perf.pl's <c>--inline</c> runs. Implementations return the tool's standard
/// output as text, or an empty string when the tool cannot run (as a shell's backquotes would give).
/// </summary>
public interface IBinutils
{
    /// <summary>Standard output of <c>addr2line -a PC -e MODULE -i -f -s -C</c>; <paramref name="pc"/> is hex, with or without <c>0x</c>.</summary>
    string Addr2Line(string pc, string module);
    /// <summary>Standard output of <c>nm MODULE</c>.</summary>
    string Nm(string module);
}

/// <summary>
/// Folds <c>perf script</c> text into collapsed stacks with the rules of FlameGraph's stackcollapse-perf.pl, so the
/// output equals it byte for byte: root frame = comm (spaces as <c>_</c>), count = the sample's period when the event
/// line shows one (else 1), only the first event type unless filtered, frames leaf-last, unknown symbols as
/// <c>[dso]</c>, inline chains <c>A-&gt;B</c> split with <c>_[i]</c>, lines sorted bytewise.
/// <para>
/// Name tidying follows its <c>tidy_generic</c> and <c>tidy_java</c> (FlameGraph @41fee1f, stackcollapse-perf.pl):
/// <c>;</c> becomes <c>:</c>; from the first <c>(</c> that does not open <c>(anonymous namespace)</c> the rest is
/// dropped, unless the name looks like a Go method (<c>.(…).</c> in it, e.g. <c>net/http.(*Client).Do</c>); quotes
/// are deleted; in processes whose name starts with <c>java</c> a leading <c>L</c> is dropped from names with a
/// <c>/</c>. A frame line is <c>ws* WORD ws* FUNC (DSO)</c> where FUNC runs to the last <c> (</c> that a <c>)</c>
/// follows, so <c>[unknown] (/memfd:doublemapper (deleted))</c> gives the frame <c>[unknown] </c> (trailing space),
/// and <c>[unknown] (//anon)</c> gives <c>[anon]</c>, as it writes them.
/// </para>
/// <para>
/// Our own parser, not TraceEvent's <c>LinuxPerfScriptEventParser</c>: that one insists on file names ending in
/// <c>.data.txt</c>, silently yields no samples when the event line has no <c>pid/tid</c> (plain <c>perf script</c>
/// prints only the tid), and splits dso names with spaces or parentheses wrongly
/// (<c>/memfd:doublemapper (deleted)</c>), so it cannot reproduce the reference output (docs/dependencies.md, TraceEvent).
/// </para>
/// Text is handled as Latin-1 so every input byte round-trips and ordinal sorting is perl's bytewise <c>cmp</c>; lines
/// end at <c>\n</c> only (a <c>\r</c> stays part of the line, as perl's <c>chomp</c> leaves it). Pattern classes are
/// perl's on byte strings: <c>\s</c>, <c>\d</c>, <c>\w</c> are ASCII-only. Sums are 64-bit (a sum past
/// <see cref="long.MaxValue"/> throws <see cref="OverflowException"/>, where perl would switch to floating point).
/// </summary>
public static class PerfScriptCollapse
{
    // stackcollapse-perf.pl's patterns, with perl's ASCII \w, \d, \s, \S spelled out. Matched without backtracking (all but
    // ArgList, whose lookahead needs it): perl's "([0-9]+)*" and lazy ".+?" backtrack exponentially on a long digit run;
    // fuzzing found 125-byte inputs that took seconds to minutes.
    private const string S = @"[ \t\n\r\f\v]";
    private const string NS = @"[^ \t\n\r\f\v]";
    private static readonly Regex EventLine = new(@"^(" + NS + ".+?)" + S + @"+([0-9]+)/*([0-9]+)*" + S + "+", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex PeriodEvent = new(@":" + S + @"*([0-9]+)*" + S + @"+(" + NS + "+):" + S + @"*$", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex StackLine = new(@"^" + S + @"*([A-Za-z0-9_]+)" + S + @"*(.+) \((.*)\)", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex StackLineInferno = new(@"^" + S + @"*([A-Za-z0-9_]+)" + S + @"*(.+) \((" + NS + @"*)\)", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex Offset = new(@"\+0x[0-9a-f]+$", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex GoMethod = new(@"\.\(.*\)\.", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex ArgList = new(@"\((?!anonymous namespace\)).*", RegexOptions.CultureInvariant);
    private static readonly Regex KernelDso = new(@"(^\[|vmlinux$)", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex PerfMap = new(@"/tmp/perf-[0-9]+\.map", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex NoInline = new(@"(perf-[0-9]+.map|kernel\.|\[[^\]]+\])", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex FuncPlusOffset = new(@"^(.+)\+0x([0-9a-f]+)$", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex Discriminator = new(@" \(discriminator " + NS + @"+\)", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex SrclineBrackets = new(@"\[.*?\]", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex SingleLineSample = new(@"^" + S + @"*(" + NS + ".+?:" + S + @"*[0-9]*" + S + @"+" + NS + @"+:)" + S + @"+([0-9a-f]+ .+ \(" + NS + @"*\))" + S + @"*$", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex RustHash = new(@"::h[0-9a-f]{16}$", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex JittedSo = new(@"/tmp/jitted-[0-9]+-[0-9]+\.so", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);

    /// <summary>
    /// The process name, pid and tid stackcollapse-perf.pl reads from the event line perf script prints for a sample of
    /// thread <paramref name="tid"/> of process <paramref name="pid"/> named <paramref name="comm"/>
    /// (<c>COMM PID/TID TIME: …</c>, <c>-F comm,pid,tid,…</c>). Its comm pattern is lazy: the comm ends before the
    /// first run of digits that stands alone as a word, so a thread named <c>worker two 1</c> is read as comm
    /// <c>worker two</c>, pid <c>?</c> and tid <c>1</c> (no second number: perl's <c>$pid = "?"</c>). A comm the
    /// pattern would read past (one character long, or ending where no digits follow) comes back whole, with the real
    /// pid and tid: that reading depends on the time and period text after it, which a sample's name does not carry.
    /// </summary>
    public static (string Comm, string Pid, string Tid) EventLineName(string comm, int pid, int tid)
    {
        ArgumentNullException.ThrowIfNull(comm);
        string p = pid.ToString(CultureInfo.InvariantCulture), t = tid.ToString(CultureInfo.InvariantCulture);
        var m = EventLine.Match(comm + " " + p + "/" + t + " 0.000000: ");
        if (!m.Success || m.Groups[1].Length > comm.Length || !comm.StartsWith(m.Groups[1].Value, StringComparison.Ordinal)) return (comm, p, t);
        string pp = m.Groups[2].Value, tt = m.Groups[3].Value;
        if (!PerlTrue(tt)) { tt = pp; pp = "?"; }
        return (m.Groups[1].Value, pp, tt);
    }

    /// <summary>
    /// Reads <paramref name="input"/> (perf script text) and writes collapsed stacks to <paramref name="output"/>
    /// (Latin-1 bytes out for the bytes in, lines <c>stack count\n</c> sorted bytewise); warnings (event filtering,
    /// unrecognized lines) go to <paramref name="warnings"/>.
    /// </summary>
    public static void Collapse(Stream input, Stream output, CollapseOptions options, TextWriter? warnings = null)
    {
        var collapsed = Fold(new StreamReader(input, Encoding.Latin1, detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16), options, warnings);
        Write(collapsed, output);
    }

    /// <summary>Writes folded stacks as stackcollapse-perf.pl prints them: <c>sort keys</c> (bytewise on Latin-1 text), <c>"$k $v\n"</c>.</summary>
    public static void Write(IReadOnlyDictionary<string, long> collapsed, Stream output)
    {
        var w = new StreamWriter(output, Encoding.Latin1, 1 << 16, leaveOpen: true) { NewLine = "\n" };
        foreach (var k in collapsed.Keys.OrderBy(k => k, StringComparer.Ordinal))
        {
            w.Write(k);
            w.Write(' ');
            w.Write(collapsed[k].ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.Write('\n');
        }
        w.Flush();
    }

    /// <summary>Folds the text into stack → summed count (keys root-first, <c>;</c>-separated).</summary>
    public static Dictionary<string, long> Fold(TextReader reader, CollapseOptions o, TextWriter? warnings = null)
    {
        var collapsed = new Dictionary<string, long>(StringComparer.Ordinal);
        var stack = new List<string>();
        string? pname = null;
        long period = 1;
        string eventFilter = o.EventFilter ?? "";
        bool defaulted = false, warned = false;
        bool inferno = o.Dialect == CollapseDialect.Inferno;
        var inliner = o.Inline && !inferno ? new Inliner(o.Binutils ?? new ProcessBinutils(warnings), o.Context) : null;
        using var lines = Lines(reader).GetEnumerator();
        string NextLine() => lines.MoveNext() ? lines.Current : "";

        void EndStack()
        {
            if (pname == null) { stack.Clear(); return; }
            stack.Insert(0, pname);
            var key = string.Join(";", stack);
            collapsed[key] = checked(collapsed.GetValueOrDefault(key) + period);
            stack.Clear();
            pname = null;
        }

        var frames = new List<string>();
        while (lines.MoveNext())
        {
            var line = lines.Current;
            if (inferno && line.EndsWith('\r')) line = line[..^1];
            if (line.StartsWith('#')) continue;
            if (line.Length == 0) { EndStack(); continue; }
            string? sameLineFrame = null;
            if (inferno)
            {
                // inferno also reads event lines that are indented and carry their one frame on the same line
                // (perf script -F ...,ip,sym,dso without a callchain); each such line is a whole sample.
                var one = SingleLineSample.Match(line);
                if (one.Success) { line = one.Groups[1].Value; sameLineFrame = one.Groups[2].Value; }
                else if (line.Length > 0 && char.IsWhiteSpace(line[0]) && EventLine.IsMatch(line.TrimStart()) && PeriodEvent.IsMatch(line)) line = line.TrimStart();
            }
            var ev = EventLine.Match(line);
            if (ev.Success && (sameLineFrame != null || !inferno || !StackLineInferno.IsMatch(line) || PeriodEvent.IsMatch(line)))
            {
                if (inferno && pname != null) EndStack();
                string comm = ev.Groups[1].Value, pid = ev.Groups[2].Value, tid = ev.Groups[3].Value;
                if (!PerlTrue(tid)) { tid = pid; pid = "?"; }
                string periodText = "";
                var pe = PeriodEvent.Match(line);
                if (pe.Success)
                {
                    periodText = pe.Groups[1].Value;
                    var name = pe.Groups[2].Value;
                    // inferno compares event names without their modifiers (cycles:u is cycles).
                    if (inferno && name.IndexOf(':') is var colon and > 0) name = name[..colon];
                    if (eventFilter.Length == 0) { eventFilter = name; defaulted = true; }
                    else if (name != eventFilter)
                    {
                        if (defaulted && !warned) { warnings?.WriteLine($"Filtering for events of type: {name}"); warned = true; }
                        continue;
                    }
                }
                // perl: "if (not $period) { $period = 1 }": an empty or "0" period counts 1 ("00" is true in perl and adds 0).
                period = o.CountSamples || !PerlTrue(periodText) ? 1 : ParsePeriod(periodText, inferno);
                if (period < 0) { pname = null; stack.Clear(); continue; } // dropped, as the reader drops it
                pname = o.Tid ? $"{comm}-{pid}/{tid}" : o.Pid ? $"{comm}-{pid}" : comm;
                pname = pname.Replace(' ', '_');
                if (sameLineFrame == null) continue;
                line = sameLineFrame;
            }
            var st = (inferno ? StackLineInferno : StackLine).Match(line);
            if (!st.Success)
            {
                if (!inferno) warnings?.WriteLine("Unrecognized line: " + line);
                continue;
            }
            if (pname == null) continue;
            string pc = st.Groups[1].Value, rawfunc = st.Groups[2].Value, mod = st.Groups[3].Value;
            if (inliner != null && !NoInline.IsMatch(mod))
            {
                var res = inliner.Resolve(pc, rawfunc, mod);
                // Empty (no such file, addr2line missing) or unknown: fall back to perf's own name.
                if (res is not ("" or "??" or "??:??:0")) { stack.Insert(0, res); continue; }
            }
            frames.Clear();
            if (inferno) AppendFramesInferno(frames, pc, rawfunc, mod, pname, o);
            else AppendFrames(frames, pc, rawfunc, mod, pname, o, o.Srcline ? NextLine : null);
            stack.InsertRange(0, frames);
        }
        if (inferno) EndStack(); // inferno emits a last stack that no blank line ended
        return collapsed;
    }

    /// <summary>
    /// The (RAWFUNC, MOD) stackcollapse-perf.pl reads back from the frame line <c>PC RAWFUNC (MOD)</c> perf script
    /// prints for a frame of function <paramref name="rawfunc"/> in image <paramref name="mod"/>: its pattern is greedy,
    /// so a parenthesis inside the image name moves the split, e.g. <c>[unknown] (/memfd:doublemapper (deleted))</c> is
    /// read as function <c>[unknown] (/memfd:doublemapper</c> in image <c>deleted)</c>. Unchanged when nothing moves.
    /// </summary>
    public static (string Rawfunc, string Mod) FrameLineFields(string rawfunc, string mod)
    {
        ArgumentNullException.ThrowIfNull(rawfunc);
        ArgumentNullException.ThrowIfNull(mod);
        var m = StackLine.Match("0 " + rawfunc + " (" + mod + ")");
        return m.Success ? (m.Groups[2].Value, m.Groups[3].Value) : (rawfunc, mod);
    }

    /// <summary>
    /// The folded frames stackcollapse-perf.pl makes of one <c>perf script</c> frame line <c>PC RAWFUNC (MOD)</c> of a
    /// sample whose root frame is <paramref name="pname"/>, appended to <paramref name="into"/> outermost first: the
    /// offset cut, <c>A-&gt;B</c> split (inner ones <c>_[i]</c>), <c>[unknown]</c> replaced by <c>[dso]</c>, tidied and
    /// annotated as <see cref="PerfScriptCollapse"/> says. Nothing is appended for a process-name line
    /// (<paramref name="rawfunc"/> starting with <c>(</c>). <paramref name="nextLine"/> reads the <c>--srcline</c> line
    /// under the frame (null: no srcline input).
    /// </summary>
    public static void AppendFrames(List<string> into, string pc, string rawfunc, string mod, string pname, CollapseOptions o, Func<string>? nextLine = null)
    {
        rawfunc = Offset.Replace(rawfunc, "", 1);
        if (rawfunc.StartsWith('(')) return;
        bool isUnknown = false;
        int first = into.Count;
        foreach (var piece in PerlSplit(rawfunc, "->"))
        {
            var func = piece;
            if (func == "[unknown]")
            {
                if (mod != "[unknown]") func = mod[(mod.LastIndexOf('/') + 1)..];
                else { func = "unknown"; isUnknown = true; }
                func = o.Addrs ? $"[{func} <{pc}>]" : $"[{func}]";
            }
            func = func.Replace(';', ':');
            if (!GoMethod.IsMatch(func)) func = ArgList.Replace(func, "", 1);
            func = func.Replace("\"", "").Replace("'", "");
            if (pname.StartsWith("java", StringComparison.Ordinal) && func.Contains('/') && func.StartsWith('L')) func = func[1..];
            if (into.Count > first) { if (!func.Contains("_[i]", StringComparison.Ordinal)) func += "_[i]"; }
            else if (o.Kernel && KernelDso.IsMatch(mod) && !mod.Contains("unknown", StringComparison.Ordinal)) func += "_[k]";
            else if (o.Jit && PerfMap.IsMatch(mod)) { if (!func.Contains("_[j]", StringComparison.Ordinal)) func += "_[j]"; }
            if (nextLine != null && !isUnknown)
            {
                var src = SrclineBrackets.Replace(nextLine(), "");
                src = src.Trim(' ', '\t', '\n', '\r', '\f', '\v');
                if (src.Length > 0) func += ":" + src;
            }
            into.Add(func);
        }
    }

    private static void AppendFramesInferno(List<string> into, string pc, string rawfunc, string mod, string pname, CollapseOptions o)
    {
        rawfunc = Offset.Replace(rawfunc, "", 1);
        if (rawfunc.StartsWith('(')) return;
        int first = into.Count;
        foreach (var piece in rawfunc.Split("->"))
        {
            var func = piece;
            if (func == "[unknown]")
            {
                func = mod != "[unknown]" ? mod[(mod.LastIndexOf('/') + 1)..] : "unknown";
                func = o.Addrs ? $"[{func} <{pc}>]" : $"[{func}]";
            }
            func = RustHash.Replace(DemangleRustLegacy(func), "", 1);
            func = func.Replace(';', ':');
            if (!GoMethod.IsMatch(func)) func = CutArgumentsOutsideTemplates(func);
            if (pname.StartsWith("java", StringComparison.Ordinal) && func.Contains('/') && func.StartsWith('L')) func = func[1..];
            if (into.Count > first) { if (!func.Contains("_[i]")) func += "_[i]"; }
            else if (o.Kernel && !mod.Contains("unknown") && (KernelDso.IsMatch(mod) || mod[(mod.LastIndexOf('/') + 1)..].StartsWith("vmlinux", StringComparison.Ordinal) || mod.EndsWith(".ko", StringComparison.Ordinal))) func += "_[k]";
            else if (o.Jit && (PerfMap.IsMatch(mod) || JittedSo.IsMatch(mod))) { if (!func.Contains("_[j]")) func += "_[j]"; }
            into.Add(func);
        }
    }

    /// <summary>Lines ending at <c>\n</c> only (the <c>\n</c> removed, as perl's <c>chomp</c>); a last line without one is kept.</summary>
    private static IEnumerable<string> Lines(TextReader reader)
    {
        var buf = new char[1 << 16];
        var sb = new StringBuilder();
        int n;
        while ((n = reader.Read(buf, 0, buf.Length)) > 0)
        {
            int start = 0;
            for (int i = 0; i < n; i++)
            {
                if (buf[i] != '\n') continue;
                sb.Append(buf, start, i - start);
                yield return sb.ToString();
                sb.Clear();
                start = i + 1;
            }
            sb.Append(buf, start, n - start);
        }
        if (sb.Length > 0) yield return sb.ToString();
    }

    /// <summary>perl's truth of a string: false for <c>""</c> and <c>"0"</c> only.</summary>
    private static bool PerlTrue(string s) => s.Length > 0 && s != "0";

    private static long ParsePeriod(string digits, bool inferno)
    {
        // perl adds the string as a number: leading zeros do not matter.
        var d = digits.TrimStart('0');
        if (d.Length == 0) return inferno ? 1 : 0;
        // A period beyond 2^63 is not perf's (found by fuzzing: long.Parse threw): -1 tells the caller to drop the sample.
        return long.TryParse(d, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : -1;
    }

    /// <summary>perl's <c>split /SEP/</c>: empty trailing fields are dropped.</summary>
    private static List<string> PerlSplit(string s, string sep)
    {
        var parts = new List<string>(s.Split(sep));
        while (parts.Count > 0 && parts[^1].Length == 0) parts.RemoveAt(parts.Count - 1);
        return parts;
    }

    /// <summary>stackcollapse-perf.pl's <c>inline()</c>: addr2line per (pc, dso), cached; an nm-based retry for <c>sym+0xOFF</c>.</summary>
    private sealed class Inliner(IBinutils tools, bool context)
    {
        private readonly Dictionary<(string, string), string> _cache = [];
        private readonly Dictionary<string, string> _nm = new(StringComparer.Ordinal);

        public string Resolve(string pc, string rawfunc, string mod)
        {
            if (_cache.TryGetValue((pc, mod), out var hit)) return hit;
            var output = tools.Addr2Line(pc, mod);
            int nl = output.IndexOf('\n');
            if (nl >= 0) output = output[(nl + 1)..]; // the -a address line
            if (output.Contains("??\n??:0", StringComparison.Ordinal) && FuncPlusOffset.Match(rawfunc) is { Success: true } fo)
            {
                if (!_nm.TryGetValue(mod, out var nm)) _nm[mod] = nm = tools.Nm(mod);
                var sym = new Regex(@"^([0-9a-f]+) . " + Regex.Escape(fo.Groups[1].Value) + "$", RegexOptions.Multiline | RegexOptions.CultureInvariant).Match(nm);
                if (sym.Success)
                {
                    ulong at = ulong.Parse(sym.Groups[1].Value, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture)
                        + ulong.Parse(fo.Groups[2].Value, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
                    var retried = Resolve("0x" + at.ToString("x", System.Globalization.CultureInfo.InvariantCulture), "", mod);
                    _cache[(pc, mod)] = retried;
                    return retried;
                }
            }
            // Pairs of lines, function then file:line, innermost first: outermost first joined with ';'.
            var funcs = new List<string>();
            string? function = null;
            foreach (var raw in SplitKeepingLines(output))
            {
                var l = Discriminator.Replace(raw, "", 1);
                if (function == null) { function = l; continue; }
                funcs.Insert(0, context ? function + ":" + l : function);
                function = null;
            }
            var result = string.Join(";", funcs);
            _cache[(pc, mod)] = result;
            return result;
        }

        /// <summary>perl's <c>split /^/</c> then <c>chomp</c>: the text's lines without their <c>\n</c>.</summary>
        private static IEnumerable<string> SplitKeepingLines(string s)
        {
            int start = 0;
            while (start < s.Length)
            {
                int nl = s.IndexOf('\n', start);
                if (nl < 0) { yield return s[start..]; yield break; }
                yield return s[start..nl];
                start = nl + 1;
            }
        }
    }

    /// <summary>binutils from PATH, run without a shell; a tool that cannot start gives empty output; its stderr goes to the warnings.</summary>
    private sealed class ProcessBinutils(TextWriter? warnings) : IBinutils
    {
        public string Addr2Line(string pc, string module) => Run("addr2line", ["-a", pc, "-e", module, "-i", "-f", "-s", "-C"]);
        public string Nm(string module) => Run("nm", [module]);

        private string Run(string tool, string[] args)
        {
            try
            {
                var psi = new System.Diagnostics.ProcessStartInfo(tool)
                {
                    RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
                    StandardOutputEncoding = Encoding.Latin1, StandardErrorEncoding = Encoding.Latin1,
                };
                foreach (var a in args) psi.ArgumentList.Add(a);
                using var p = System.Diagnostics.Process.Start(psi);
                if (p == null) return "";
                var err = p.StandardError.ReadToEndAsync();
                var text = p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                foreach (var l in err.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries)) warnings?.WriteLine(l);
                return text;
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                warnings?.WriteLine($"{tool}: {e.Message}");
                return "";
            }
        }
    }

    /// <summary>inferno's argument-list cut: from the first <c>(</c> outside template brackets, unless it opens <c>(anonymous namespace)</c>.</summary>
    private static string CutArgumentsOutsideTemplates(string f)
    {
        int depth = 0;
        for (int i = 0; i < f.Length; i++)
        {
            char c = f[i];
            if (c == '<') depth++;
            else if (c == '>' && depth > 0) depth--;
            else if (c == '(' && depth == 0 && !f.AsSpan(i).StartsWith("(anonymous namespace)")) return f[..i];
        }
        return f;
    }

    private static readonly (string From, string To)[] RustEscapes =
    [
        ("$SP$", "@"), ("$BP$", "*"), ("$RF$", "&"), ("$LT$", "<"), ("$GT$", ">"), ("$LP$", "("), ("$RP$", ")"), ("$C$", ","),
        ("$u7e$", "~"), ("$u20$", " "), ("$u27$", "'"), ("$u5b$", "["), ("$u5d$", "]"), ("$u7b$", "{"), ("$u7d$", "}"), ("$u3b$", ";"),
        ("$u2b$", "+"), ("$u22$", "\""),
    ];

    /// <summary>Legacy Rust symbol escapes (rustc's pre-v0 mangling): <c>_$LT$a..b$GT$</c> → <c>&lt;a::b&gt;</c>.</summary>
    private static string DemangleRustLegacy(string f)
    {
        if (!f.Contains('$')) return f;
        var parts = f.Split("::");
        for (int i = 0; i < parts.Length; i++)
        {
            var p = parts[i];
            if (!p.Contains('$')) continue;
            if (i == 0 && p.StartsWith("_$LT$", StringComparison.Ordinal)) p = p[1..];
            p = p.Replace("..", "::");
            foreach (var (from, to) in RustEscapes) p = p.Replace(from, to);
            parts[i] = p;
        }
        return string.Join("::", parts);
    }
}
