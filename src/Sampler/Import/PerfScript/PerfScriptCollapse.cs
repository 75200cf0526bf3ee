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

/// <summary>Options of <see cref="PerfScriptCollapse"/>, named as stackcollapse-perf.pl's flags.</summary>
public sealed record CollapseOptions
{
    /// <summary><c>--pid</c>: root frame <c>comm-PID</c>.</summary>
    public bool Pid { get; init; }
    /// <summary><c>--tid</c>: root frame <c>comm-PID/TID</c>.</summary>
    public bool Tid { get; init; }
    /// <summary><c>--kernel</c>: kernel frames get <c>_[k]</c>.</summary>
    public bool Kernel { get; init; }
    /// <summary><c>--jit</c>: JIT frames get <c>_[j]</c>.</summary>
    public bool Jit { get; init; }
    /// <summary><c>--addrs</c>: unknown frames show their address.</summary>
    public bool Addrs { get; init; }
    /// <summary><c>--event-filter</c>: keep only this event (default: the first event seen).</summary>
    public string? EventFilter { get; init; }
    /// <summary>Where the reference collapsers differ.</summary>
    public CollapseDialect Dialect { get; init; } = CollapseDialect.FlameGraph;
    /// <summary>Count each sample once, ignoring the period its event line shows (the reference collapsers sum periods);
    /// how the session store counts samples.</summary>
    public bool CountSamples { get; init; }
}

/// <summary>
/// Folds <c>perf script</c> text into collapsed stacks (formats.md §7), with the rules of stackcollapse-perf.pl so the
/// output equals it byte for byte: root frame = comm (spaces as <c>_</c>), count = the sample's period when the event
/// line shows one (else 1), only the first event type unless filtered, frames leaf-last, unknown symbols as
/// <c>[dso]</c>, inline chains <c>A-&gt;B</c> split with <c>_[i]</c>, lines sorted bytewise.
/// <para>
/// Our own parser, not TraceEvent's <c>LinuxPerfScriptEventParser</c>: that one insists on file names ending in
/// <c>.data.txt</c>, silently yields no samples when the event line has no <c>pid/tid</c> (plain <c>perf script</c>
/// prints only the tid), and splits dso names with spaces or parentheses wrongly
/// (<c>/memfd:doublemapper (deleted)</c>), so it cannot reproduce the reference output (dependencies.md §5a).
/// </para>
/// Text is handled as Latin-1 so every input byte round-trips and ordinal sorting is perl's bytewise <c>cmp</c>.
/// </summary>
public static class PerfScriptCollapse
{
    // stackcollapse-perf.pl's patterns, with perl's ASCII \w, \d, \s spelled out. Matched without backtracking (all but
    // ArgList, whose lookahead needs it and which has no nested quantifier): perl's "([0-9]+)*" and lazy ".+?" backtrack
    // exponentially on a long digit run; fuzzing found 125-byte inputs that took seconds to minutes.
    private const string S = @"[ \t\n\r\f\v]";
    private static readonly Regex EventLine = new(@"^(\S.+?)" + S + @"+([0-9]+)/*([0-9]+)*" + S + "+", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex PeriodEvent = new(@":" + S + @"*([0-9]+)*" + S + @"+(\S+):" + S + @"*$", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex StackLine = new(@"^" + S + @"*([A-Za-z0-9_]+)" + S + @"*(.+) \((\S*)\)", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex Offset = new(@"\+0x[0-9a-f]+$", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex GoMethod = new(@"\.\(.*\)\.", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex ArgList = new(@"\((?!anonymous namespace\)).*", RegexOptions.CultureInvariant);
    private static readonly Regex KernelDso = new(@"(^\[|vmlinux$)", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex PerfMap = new(@"/tmp/perf-[0-9]+\.map", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex SingleLineSample = new(@"^" + S + @"*(\S.+?:" + S + @"*[0-9]*" + S + @"+\S+:)" + S + @"+([0-9a-f]+ .+ \(\S*\))" + S + @"*$", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex RustHash = new(@"::h[0-9a-f]{16}$", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex JittedSo = new(@"/tmp/jitted-[0-9]+-[0-9]+\.so", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);

    /// <summary>Reads <paramref name="input"/> (perf script text) and writes collapsed stacks to <paramref name="output"/>; warnings (event filtering) go to <paramref name="warnings"/>.</summary>
    public static void Collapse(Stream input, Stream output, CollapseOptions options, TextWriter? warnings = null)
    {
        var collapsed = Fold(new StreamReader(input, Encoding.Latin1), options, warnings);
        var w = new StreamWriter(output, Encoding.Latin1) { NewLine = "\n" };
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

        void EndStack()
        {
            if (pname == null) { stack.Clear(); return; }
            stack.Insert(0, pname);
            if (stack.Count > 0)
            {
                var key = string.Join(";", stack);
                collapsed[key] = collapsed.GetValueOrDefault(key) + period;
            }
            stack.Clear();
            pname = null;
        }

        string? line;
        while ((line = reader.ReadLine()) != null)
        {
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
            if (ev.Success && (sameLineFrame != null || !inferno || !StackLine.IsMatch(line) || PeriodEvent.IsMatch(line)))
            {
                if (inferno && pname != null) EndStack();
                string comm = ev.Groups[1].Value, pid = ev.Groups[2].Value, tid = ev.Groups[3].Value;
                if (tid.Length == 0 || tid == "0") { tid = pid; pid = "?"; }
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
                // perl: "if (not $period) { $period = 1 }": an empty or 0 period counts 1.
                period = 1;
                if (!o.CountSamples && periodText.TrimStart('0').Length > 0
                    && !long.TryParse(periodText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out period))
                {
                    // A period beyond 2^63 is not perf's (found by fuzzing: long.Parse threw): the sample is dropped, as the reader drops it.
                    pname = null;
                    stack.Clear();
                    continue;
                }
                pname = o.Tid ? $"{comm}-{pid}/{tid}" : o.Pid ? $"{comm}-{pid}" : comm;
                pname = pname.Replace(' ', '_');
                if (sameLineFrame == null) continue;
                line = sameLineFrame;
            }
            var st = StackLine.Match(line);
            if (!st.Success || pname == null) continue;
            string pc = st.Groups[1].Value, rawfunc = st.Groups[2].Value, mod = st.Groups[3].Value;
            rawfunc = Offset.Replace(rawfunc, "", 1);
            if (rawfunc.StartsWith('(')) continue;
            var inline = new List<string>();
            foreach (var piece in rawfunc.Split("->"))
            {
                var func = piece;
                if (func == "[unknown]")
                {
                    func = mod != "[unknown]" ? mod[(mod.LastIndexOf('/') + 1)..] : "unknown";
                    func = o.Addrs ? $"[{func} <{pc}>]" : $"[{func}]";
                }
                if (inferno) func = RustHash.Replace(DemangleRustLegacy(func), "", 1);
                func = func.Replace(';', ':');
                if (!GoMethod.IsMatch(func)) func = inferno ? CutArgumentsOutsideTemplates(func) : ArgList.Replace(func, "", 1);
                if (!inferno) func = func.Replace("\"", "").Replace("'", "");
                if (pname.StartsWith("java", StringComparison.Ordinal) && func.Contains('/') && func.StartsWith('L')) func = func[1..];
                if (inline.Count > 0) { if (!func.Contains("_[i]")) func += "_[i]"; }
                else if (o.Kernel && !mod.Contains("unknown") && (KernelDso.IsMatch(mod) || inferno && (mod[(mod.LastIndexOf('/') + 1)..].StartsWith("vmlinux", StringComparison.Ordinal) || mod.EndsWith(".ko", StringComparison.Ordinal)))) func += "_[k]";
                else if (o.Jit && (PerfMap.IsMatch(mod) || inferno && JittedSo.IsMatch(mod))) { if (!func.Contains("_[j]")) func += "_[j]"; }
                inline.Add(func);
            }
            stack.InsertRange(0, inline);
        }
        if (inferno) EndStack(); // inferno emits a last stack that no blank line ended
        return collapsed;
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
