using System.Globalization;
using System.Text;
using XenProf.Reporter.Flame.FlameInternal;
using XenProf.Reporter.Profile;
using XenProf.Sampler.Import.PerfScript;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Flame;

/// <summary>
/// A session as folded stacks the way <c>perf script | stackcollapse-perf.pl</c> folds the same samples
/// (<see cref="FoldedOptions.PerfScriptRules"/>): every frame goes through <see cref="PerfScriptCollapse.AppendFrames"/>
/// as perf script would print it, <c>PC SYMBOL (DSO)</c> with <c>[unknown]</c> for no symbol and the image's perf
/// name (the store keeps perf's names: <c>[kernel.kallsyms]</c>, <c>/tmp/perf-PID.map</c>, <c>[unknown]</c>) as the
/// dso, so the tidy rules, <c>[dso]</c> names and annotations are that folder's. Lines are <c>stack count\n</c>,
/// UTF-8, sorted by the stack's UTF-8 bytes (perl's <c>sort keys</c> on perf's bytes).
/// </summary>
public static class FoldedExport
{
    /// <summary>
    /// Writes the folded stacks of <paramref name="selection"/> to <paramref name="output"/> (not closed). The event is
    /// the selection's, else the one of the session's first sample in time (stackcollapse-perf.pl keeps the first event
    /// type it reads; perf script prints in time order). Counts sum each sample's stored period, or count samples
    /// (<see cref="FoldedOptions.Weight"/>). Returns notes for the user (none at present).
    /// </summary>
    /// <exception cref="ArgumentException">The selection names an event the session does not have, or the session has none.</exception>
    public static IReadOnlyList<string> Write(FlameSource source, FlameSelection selection, FoldedOptions options, Stream output)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        var notes = new List<string>();
        var ev = selection.Event != null ? source.PickEvent(selection.Event) : FirstSampledEvent(source, selection);
        bool period = options.Weight == FoldedWeight.Period;

        // (domain, pid, tid or -1, comm, stack) → summed periods, or samples
        var sums = new Dictionary<(int, int, int, CommId, StackId), long>();
        bool byThread = options.ProcessNames == FoldedProcessName.CommPidTid;
        if (!byThread && selection is { Pid: null, Tid: null, FromNs: null, ToNs: null })
        {
            foreach (var t in source.Profile.StackTotals)
            {
                if (t.Event != ev.Id) continue;
                var key = (t.Domain, t.Pid, -1, t.Comm, t.Stack);
                sums[key] = sums.GetValueOrDefault(key) + (period ? t.Period : t.Samples);
            }
        }
        else
        {
            foreach (var s in source.Samples(selection with { Event = ev.Name }))
            {
                var key = (s.Domain, s.Pid, byThread ? s.Tid : -1, s.Comm, s.Stack);
                sums[key] = sums.GetValueOrDefault(key) + (period ? s.Period : 1);
            }
        }

        var collapse = new CollapseOptions
        {
            Kernel = options.Kernel || options.AnnotateKernel, Jit = options.Jit || options.AnnotateKernel, Addrs = options.Addrs,
        };
        var folded = new Dictionary<string, long>(StringComparer.Ordinal);
        var frames = new List<string>();
        var sb = new StringBuilder();
        foreach (var ((dom, pid, tid, comm, stack), n) in sums)
        {
            var name = source.Profile.Labels.RootName(dom, pid, comm);
            // The comm, pid and tid as stackcollapse-perf.pl reads them back from perf script's event line
            // (a comm ending in a number loses it to the pid/tid fields).
            var (readName, pidText, tidText) = PerfScriptCollapse.EventLineName(name, pid, tid < 0 ? pid : tid);
            var pname = (options.ProcessNames switch
            {
                FoldedProcessName.CommPid => readName + "-" + pidText,
                FoldedProcessName.CommPidTid => readName + "-" + pidText + "/" + tidText,
                _ => readName,
            }).Replace(' ', '_');
            frames.Clear();
            foreach (var f in source.StackOf(stack))
            {
                int before = frames.Count;
                // A passive domain's frames have no perf script form: they are folded under the names the profile gives them.
                // Split again as the folder splits perf script's "PC RAWFUNC (MOD)" line (greedy: a "(" in the image name moves it).
                var (rawfunc, mod) = PerfScriptCollapse.FrameLineFields(RawFunc(f), f.GuestDomain != null ? f.ImageName : f.Image.Path);
                PerfScriptCollapse.AppendFrames(frames, f.Offset.ToString("x", CultureInfo.InvariantCulture), rawfunc, mod, pname, collapse);
                if (frames.Count > before && collapse.Kernel && f.Kind is FrameKind.Hypervisor or FrameKind.Guest)
                    frames[^1] += f.Kind == FrameKind.Hypervisor ? "_[h]" : "_[g]";
            }
            sb.Clear().Append(pname);
            foreach (var fr in frames) sb.Append(';').Append(fr.Replace('\n', ' ').Replace('\r', ' '));
            var k = sb.ToString();
            folded[k] = checked(folded.GetValueOrDefault(k) + n);
        }

        var keys = folded.Keys.ToArray();
        Array.Sort(keys, Utf8Order.Comparer);
        using var w = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        foreach (var k in keys)
        {
            w.Write(k);
            w.Write(' ');
            w.Write(folded[k].ToString(CultureInfo.InvariantCulture));
            w.Write('\n');
        }
        return notes;
    }

    /// <summary>What perf script prints as the symbol: the name (a passive domain's with its image prefix, as every export shows it), or <c>[unknown]</c>.</summary>
    private static string RawFunc(Location f) => f.Symbol is { Length: > 0 } s ? (f.GuestDomain != null ? f.Name : s) : "[unknown]";

    private static StoredEvent FirstSampledEvent(FlameSource source, FlameSelection selection)
    {
        foreach (var s in source.Samples(selection)) return source.Events.FirstOrDefault(e => e.Id == s.Event) ?? source.PickEvent(null);
        return source.PickEvent(null);
    }
}
