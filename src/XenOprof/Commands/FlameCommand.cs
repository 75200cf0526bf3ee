using System.CommandLine;
using XenProf.Cli.Options;
using XenProf.Reporter.Flame;
using XenProf.Reporter.Profile;

namespace XenProf.Cli.Commands;

/// <summary><c>xenoprof flame</c>: folded stacks or an interactive SVG flame graph of a session.</summary>
internal static class FlameCommand
{
    public static Command Create()
    {
        var dir = CommonOptions.SessionDir();
        var output = new Option<string>("--output", "-o") { Description = "File to write; the format follows its extension (.svg, .folded) unless --format is given", Required = true };
        var format = new Option<string?>("--format") { Description = "svg or folded (default: from the --output extension)" };
        var ev = new Option<string?>("--event") { Description = "Event name to draw (default: the first event of the session)" };
        var title = new Option<string?>("--title") { Description = "SVG title (default: Flame Graph)" };
        var width = new Option<int>("--width") { Description = "SVG width in pixels", DefaultValueFactory = _ => 1200 };
        var minWidth = new Option<double>("--minwidth") { Description = "Omit SVG frames narrower than this many pixels", DefaultValueFactory = _ => 0.1 };
        var inverted = new Option<bool>("--inverted") { Description = "Icicle graph: root at the top" };
        var annotate = new Option<bool>("--annotate") { Description = "Folded: mark kernel frames _[k], JIT _[j], hypervisor _[h]" };
        var file = CommonOptions.TraceFile();
        var kallsyms = CommonOptions.Kallsyms();
        var cmd = new Command("flame", "Write a flame graph (interactive SVG) or folded stacks from a session or straight from a perf.data")
        {
            file, kallsyms, dir, output, format, ev, title, width, minWidth, inverted, annotate, Run.Verbose,
        };
        cmd.SetAction(pr => Run.Guarded("flame", pr.GetValue(Run.Verbose), ct => Execute(
            DirectTrace.SessionFor("flame", pr.GetValue(file), pr.GetValue(dir)!, pr.GetValue(kallsyms), ct), pr.GetValue(output)!, pr.GetValue(format), pr.GetValue(ev),
            new SvgFlameOptions { Title = pr.GetValue(title) ?? "Flame Graph", Width = pr.GetValue(width), MinWidthPx = pr.GetValue(minWidth), Inverted = pr.GetValue(inverted) },
            pr.GetValue(annotate), Console.Error)));
        return cmd;
    }

    /// <summary>Writes the flame graph of session <paramref name="sessionDir"/> to <paramref name="output"/>; reports the path on <paramref name="stderr"/>.</summary>
    public static int Execute(string sessionDir, string output, string? format, string? eventName, SvgFlameOptions svg, bool annotate, TextWriter stderr)
    {
        format ??= Path.GetExtension(output).ToLowerInvariant() switch
        {
            ".svg" => "svg",
            ".folded" or ".txt" or ".collapsed" => "folded",
            var ext => throw new UserErrorException($"cannot tell the format from '{ext}'; use --format svg or --format folded"),
        };
        if (format is not ("svg" or "folded")) throw new UserErrorException($"unknown format '{format}'; this verb writes svg or folded");
        var profile = SessionProfiles.Load(sessionDir, new ProfileOptions { WithStacks = true });
        var stacks = ProfileFlame.Stacks(profile, eventName);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        using (var w = new StreamWriter(output))
        {
            if (format == "svg")
            {
                var ev = ProfileFlame.PickEvent(profile, eventName);
                svg = svg with { Subtitle = svg.Subtitle ?? $"{ev.Name}:{ev.Count}, {profile.Totals.Sum()} samples" };
                SvgFlameGraph.Write(stacks, w, svg);
            }
            else FoldedWriter.Write(stacks, w, new FoldedOptions { AnnotateKernel = annotate });
        }
        stderr.WriteLine($"xenoprof flame: wrote {Path.GetFullPath(output)}");
        return 0;
    }
}
