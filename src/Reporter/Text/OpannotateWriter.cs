using System.Globalization;
using System.Text;
using XenProf.Reporter.Profile;
using XenProf.Reporter.Symbols;
using XenProf.Reporter.Text.TextInternal;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Text;

/// <summary>Assembly syntax for annotated listings.</summary>
public enum AsmSyntax
{
    /// <summary>AT&amp;T / GNU as syntax, as <c>objdump -d</c> prints by default.</summary>
    Gas,
    /// <summary>Intel syntax, as <c>objdump -d -M intel</c> prints.</summary>
    Intel,
}

/// <summary>Options for <see cref="OpannotateWriter"/>.</summary>
public sealed record OpannotateOptions
{
    /// <summary>Annotated disassembly (opannotate <c>--assembly</c>). Default true.</summary>
    public bool Assembly { get; init; } = true;

    /// <summary>Source lines from DWARF line tables (opannotate <c>--source</c>); with <see cref="Assembly"/> they are
    /// interleaved with the instructions, alone they are listed with per-line counts.</summary>
    public bool Source { get; init; }

    /// <summary>Assembly syntax. Default GAS.</summary>
    public AsmSyntax Syntax { get; init; } = AsmSyntax.Gas;

    /// <summary>Charge each sample to the instruction before its IP (imprecise events skid one instruction) and show
    /// both the raw and the adjusted counts; the function header says which attribution the totals use.</summary>
    public bool SkidAdjust { get; init; }

    /// <summary>Only functions at or above this percentage of the total (opannotate <c>--threshold</c>); 0 = all.</summary>
    public double Threshold { get; init; }

    /// <summary>Only functions whose name contains one of these strings (opannotate <c>--include-symbols</c>); empty = all.</summary>
    public IReadOnlyList<string> IncludeSymbols { get; init; } = [];

    /// <summary>Only functions of images whose basename or path contains this string; null = all.</summary>
    public string? Image { get; init; }

    /// <summary>The command line echoed in the header comment.</summary>
    public string CommandLine { get; init; } = "xenoprof opannotate";

    /// <summary>Largest function disassembled, in bytes (guards against a bogus symbol size). Default 1 MiB.</summary>
    public int MaxFunctionBytes { get; init; } = 1 << 20;

    /// <summary>The samples were taken on other hosts (a profile of the fleet database): code is read only from files
    /// whose build-id is the recorded one, kernel code only from a given vmlinux, and no module or JIT code (see
    /// <see cref="FunctionAnnotation"/>). Default false: this machine recorded them.</summary>
    public bool RecordedElsewhere { get; init; }
}

/// <summary>
/// Writes opannotate-style listings (oprofile's opannotate(1); pp/opannotate.cpp): a C comment block with the command line, its
/// interpretation and the CPU/event header; then every function with samples, hottest first, disassembled with Iced
/// in objdump's layout. The function line is <c>START &lt;name&gt;: /* name total: N P */</c>; every instruction line
/// starts with, per event, the sample count (<c>%6d</c>) and its percentage of the event's total (7 characters),
/// then <c> :</c> and the objdump line; unsampled instructions get blanks of the same width. Samples whose IP is not
/// an instruction boundary are folded onto the instruction containing it, as opannotate does. With
/// <see cref="OpannotateOptions.SkidAdjust"/> two column groups are printed: the sampled IP, and the IP moved to the
/// preceding instruction (<see cref="FunctionDisassembly.SkidAdjust"/>). The data of each listing is a <see cref="FunctionAnnotation"/>.
/// A function whose code is not here (<see cref="FunctionAnnotation.Problem"/>: the binary, or the build of it that was
/// sampled, is missing) gets a one-line note saying what is missing, then one line per sampled address
/// (<c>COUNTS :   ADDR:	&lt;name+0xoff&gt;</c>) in place of the disassembly. Where the profile holds two builds of one
/// image path (hosts of the fleet database that ran different builds), each function line names its build-id.
/// </summary>
public static class OpannotateWriter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Writes the listing of every sampled function of <paramref name="profile"/>.</summary>
    /// <param name="profile">A profile built with <see cref="ProfileOptions.WithDetails"/>.</param>
    /// <param name="symbolizer">The symbolizer the profile was built with (its images are reused for code bytes and target names).</param>
    /// <param name="code">Where code bytes come from (files, kcore, vmlinux).</param>
    /// <param name="w">Output.</param>
    /// <param name="o">Options.</param>
    /// <param name="warn">Told once per image (and build) whose functions are listed by address only, why (for stderr); may be null.</param>
    /// <returns>Number of functions listed with disassembly or source.</returns>
    public static int Write(Profile.Profile profile, Symbolizer symbolizer, CodeBytes code, TextWriter w, OpannotateOptions o, Action<string>? warn = null)
    {
        WriteBanner(profile, w, o);
        var lines = new SourceLines();
        // Image paths the profile holds in more than one build: their function lines name the build-id.
        var builds = profile.Images.GroupBy(i => i.Image.Path, StringComparer.Ordinal).Where(g => g.Select(i => i.Image.BuildId).Distinct().Count() > 1)
            .Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        var warned = new HashSet<(string, string?)>();
        int listed = 0, byAddress = 0;
        foreach (var row in profile.Symbols)
        {
            if (row.Symbol == Profile.Profile.NoSymbols || row.Size == 0 || row.Details.Count == 0) continue;
            if (!Shown(profile, row, o)) continue;
            var image = row.ImageRow.Image;
            string? build = builds.Contains(image.Path) ? image.BuildId ?? "none" : null;
            var (shown, problem) = WriteFunction(profile, row, symbolizer, code, lines, w, o, build);
            if (shown) listed++;
            else if (problem != null)
            {
                byAddress++;
                if (warned.Add((image.Path, image.BuildId))) warn?.Invoke($"{row.ImageRow.Name}: {problem}; its functions are listed by sampled address");
            }
        }
        if (listed == 0 && byAddress == 0) w.WriteLine("/* no sampled function could be annotated (no samples, or no symbols for the sampled images) */");
        return listed;
    }

    private static bool Shown(Profile.Profile p, SymbolRow r, OpannotateOptions o)
    {
        if (o.Image != null && !r.ImageRow.Image.Path.Contains(o.Image, StringComparison.Ordinal)) return false;
        if (o.IncludeSymbols.Count > 0 && !o.IncludeSymbols.Any(s => r.Symbol.Contains(s, StringComparison.Ordinal))) return false;
        if (o.Threshold <= 0) return true;
        for (int i = 0; i < p.Totals.Length; i++)
            if (p.Totals[i] > 0 && 100.0 * r.Counts.Samples[i] / p.Totals[i] >= o.Threshold) return true;
        return false;
    }

    private static void WriteBanner(Profile.Profile p, TextWriter w, OpannotateOptions o)
    {
        w.WriteLine("/*");
        w.WriteLine(" * Command line: " + o.CommandLine);
        w.WriteLine(" *");
        w.WriteLine(" * Interpretation of command line:");
        w.WriteLine(o.Assembly ? (o.Source ? " * Output annotated assembly listing with samples, interleaved with source lines"
            : " * Output annotated assembly listing with samples") : " * Output annotated source file with samples");
        if (o.SkidAdjust) w.WriteLine(" * Skid adjustment: each sample is also charged to the instruction before its IP (second column group)");
        w.WriteLine(" *");
        var sw = new StringWriter();
        OpreportWriter.WriteHeader(p, sw);
        foreach (var line in sw.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)) w.WriteLine(" * " + line.TrimEnd('\r'));
        w.WriteLine(" */");
    }

    // Listed: with its code (or source); Problem: why there was no code (it was listed by address), else null.
    private static (bool Listed, string? Problem) WriteFunction(Profile.Profile p, SymbolRow row, Symbolizer symbolizer, CodeBytes code, SourceLines sources, TextWriter w, OpannotateOptions o, string? build)
    {
        int events = p.Events.Count;
        string name = row.Symbol;
        w.WriteLine();
        var total = new StringBuilder();
        for (int e = 0; e < events; e++)
            total.Append(CultureInfo.InvariantCulture, $" total: {row.Counts.Samples[e],6} {OpreportWriter.Pct(Profile.Profile.Share(row.Counts.Samples[e], p.Totals[e]).Percent)}");
        string attribution = o.SkidAdjust ? "; columns: sampled IP | skid-adjusted (preceding instruction); totals are the same" : "";
        string image = build == null ? row.ImageRow.Name : $"{row.ImageRow.Name} build-id {build}";
        w.WriteLine($"{row.Start:x16} <{name}>: /* {name}{total} ({image}){attribution} */");

        var a = FunctionAnnotation.Build(p, row, symbolizer, code, sources, o);
        if (a.Problem != null)
        {
            w.WriteLine($"/* {name}: {a.Problem}; listed by sampled address */");
            var none = new long[events];
            foreach (var d in row.Details)
                w.WriteLine(Counts(p, d.Counts.Samples, none, events, o.SkidAdjust) + $" :{d.Vma,8:x}:\t<{(d.Vma == row.Start ? name : $"{name}+0x{d.Vma - row.Start:x}")}>");
            return (false, a.Problem);
        }
        if (!o.Assembly)
        {
            if (a.SourceNote != null) { w.WriteLine($"/* {a.SourceNote} */"); return (false, null); }
            WriteSourceOnly(p, a, w, o, events);
            return (true, null);
        }

        if (a.SourceNote != null) w.WriteLine($"/* {a.SourceNote} */");
        if (a.InvalidCount > 0) w.WriteLine($"/* {a.InvalidCount} byte sequences did not decode (shown as (bad)) */");
        if (a.Outside > 0) w.WriteLine($"/* {a.Outside} samples fall outside the decoded bytes */");
        string blank = new(' ', Columns(events, o.SkidAdjust));
        (string File, int Line) lastLine = default;
        foreach (var ins in a.Instructions)
        {
            if (ins.Source is { } sl && (sl.File, sl.Line) != lastLine)
            {
                lastLine = (sl.File, sl.Line);
                w.WriteLine($"{blank} :{sl.File}:{sl.Line}");
                if (sl.Text is { } src) w.WriteLine($"{blank} :{src}");
            }
            w.WriteLine(Counts(p, ins.Samples, ins.Adjusted, events, o.SkidAdjust) + " :" + ins.Text[0]);
            for (int k = 1; k < ins.Text.Count; k++) w.WriteLine(blank + " :" + ins.Text[k]);
        }
        return (true, null);
    }

    private static void WriteSourceOnly(Profile.Profile p, FunctionAnnotation a, TextWriter w, OpannotateOptions o, int events)
    {
        var byLine = new SortedDictionary<(string, int), (long[] Raw, long[] Adj, string? Text)>();
        foreach (var ins in a.Instructions)
        {
            if (ins.Source is not { } sl) continue;
            if (!byLine.TryGetValue((sl.File, sl.Line), out var c)) byLine[(sl.File, sl.Line)] = c = (new long[events], new long[events], sl.Text);
            for (int e = 0; e < events; e++) { c.Raw[e] += ins.Samples[e]; c.Adj[e] += ins.Adjusted[e]; }
        }
        foreach (var ((file, line), c) in byLine)
            w.WriteLine($"{Counts(p, c.Raw, c.Adj, events, o.SkidAdjust)} :{file}:{line}: {c.Text ?? ""}".TrimEnd());
    }

    private static int Columns(int events, bool skid) => events * 15 * (skid ? 2 : 1) - 1 + (skid ? 2 : 0);

    private static string Counts(Profile.Profile p, long[] raw, long[] adj, int events, bool skid)
    {
        var sb = new StringBuilder();
        void Group(long[] c)
        {
            bool any = false;
            for (int e = 0; e < events; e++) any |= c[e] != 0;
            for (int e = 0; e < events; e++)
            {
                if (e > 0) sb.Append(' ');
                if (!any) { sb.Append(' ', 14); continue; }
                sb.Append(c[e].ToString(Inv).PadLeft(6)).Append(' ')
                  .Append(OpreportWriter.Pct(Profile.Profile.Share(c[e], p.Totals[e]).Percent));
            }
        }
        Group(raw);
        if (skid) { sb.Append(" | "); Group(adj); }
        return sb.ToString();
    }
}
