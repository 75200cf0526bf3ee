using XenProf.Reporter.Flame;

namespace XenProf.Cli.Commands;

/// <summary><c>xenoprof flame --diff-base BASE [NEW]</c>: a differential flame graph (SVG) or its two-count folded stacks.</summary>
internal static class FlameDiff
{
    /// <summary>
    /// Pairs the flame stacks of <paramref name="baseDir"/> and <paramref name="newDir"/> (the same selection, the same
    /// event: the selection's, else the new session's first) and writes <paramref name="output"/> as difffolded.pl's
    /// folded text or as flamegraph.pl draws it; <paramref name="normalize"/> scales the base counts to the new total
    /// (difffolded.pl <c>-n</c>). Any other format is a user error.
    /// </summary>
    public static int Execute(string baseDir, string newDir, string output, FlameFormat format, FlameCommandFilters filters, SvgFlameOptions svg,
        bool annotate, bool normalize, TextWriter stderr)
    {
        if (format is not (FlameFormat.Svg or FlameFormat.Folded))
            throw new UserErrorException($"--diff-base draws an SVG or writes folded stacks with two counts; not {format.ToString().ToLowerInvariant()}");
        var selection = filters.ToSelection();
        bool withSamples = selection is not { Pid: null, Tid: null, FromNs: null, ToNs: null };
        var newSource = FlameSource.Open(newDir, selection, withSamples, relativeTimes: true);
        selection = selection with { Event = newSource.PickEvent(selection.Event).Name };
        var baseSource = FlameSource.Open(baseDir, selection, withSamples, relativeTimes: true);
        var diff = DiffFlameGraph.Pair(baseSource.FlameStacks(selection), newSource.FlameStacks(selection), normalize);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        using (var w = new StreamWriter(output, false, new System.Text.UTF8Encoding(false)))
        {
            if (format == FlameFormat.Folded) diff.WriteFolded(w, new FoldedOptions { AnnotateKernel = annotate });
            else
            {
                var ev = newSource.PickEvent(selection.Event);
                diff.WriteSvg(w, svg with
                {
                    Title = svg.Title == "Flame Graph" ? "Differential Flame Graph" : svg.Title,
                    Subtitle = svg.Subtitle ?? $"{ev.Name}: widths from the new profile ({diff.NewTotal} samples), red = more than the base ({diff.BaseTotal}{(normalize ? ", normalized" : "")}), blue = fewer",
                });
            }
        }
        stderr.WriteLine($"xenoprof flame: wrote {Path.GetFullPath(output)}");
        return 0;
    }
}
