using XenProf.Reporter.Profile;
using XenProf.Reporter.Symbols;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Flame;

/// <summary>
/// The profile model seen by the exports: names, stacks and samples of one <see cref="Profile.Profile"/> with the
/// selections every format applies. It reads nothing but the model, so any session (live, emulated Xen, imported)
/// exports the same way.
/// </summary>
public sealed partial class FlameSource
{
    /// <summary>Wraps <paramref name="profile"/>, which must be built <see cref="ProfileOptions.WithStacks"/> (and <see cref="ProfileOptions.WithSamples"/> for time-ordered formats).</summary>
    public FlameSource(Profile.Profile profile) => Profile = profile;

    /// <summary>
    /// Builds the profile of the session in <paramref name="sessionDir"/> for <paramref name="selection"/> (a relative
    /// time window with <paramref name="relativeTimes"/>), with stacks and, with <paramref name="withSamples"/>, every
    /// sample in time order. Kernel symbols come from the session's own kallsyms/modules snapshot (falling back to /proc).
    /// With <paramref name="recoverFunctions"/> false, code no symbol covers stays unnamed (as <c>perf script</c> prints
    /// it, <c>[unknown]</c>) instead of taking a recovered name (<see cref="Symbols.SymbolizerOptions.RecoverFunctions"/>).
    /// Throws <see cref="StoreException"/> when there is no store, <see cref="XenProf.Hypervisor.Binary.XenProfUserException"/> for an unknown event.
    /// </summary>
    public static FlameSource Open(string sessionDir, FlameSelection? selection = null, bool withSamples = true, bool relativeTimes = false,
        bool recoverFunctions = true)
    {
        selection ??= FlameSelection.All;
        var options = new ProfileOptions
        {
            Domain = selection.Domain, Event = selection.Event, Pid = selection.Pid, Tid = selection.Tid,
            FromNs = selection.FromNs, ToNs = selection.ToNs, RelativeTimes = relativeTimes,
            WithStacks = true, WithSamples = withSamples,
        };
        if (recoverFunctions) return new FlameSource(SessionProfiles.Load(sessionDir, options));
        using var symbolizer = new Symbols.Symbolizer(SessionProfiles.SymbolizerOptionsFor(sessionDir) with { RecoverFunctions = false });
        return new FlameSource(SessionProfiles.Load(sessionDir, options, symbolizer));
    }

    /// <summary>The model.</summary>
    public Profile.Profile Profile { get; }

    /// <summary>Whether the profile holds its samples (<see cref="ProfileOptions.WithSamples"/>); without them, as for the
    /// fleet database, the exports that can read per-stack sums (<see cref="Profile.Profile.StackTotals"/>) read those.</summary>
    public bool HasSamples => Profile.Query.WithSamples;

    /// <summary>The selection the profile was built for (absolute times).</summary>
    public FlameSelection Selection => new()
    {
        Domain = Profile.Query.Domain, Event = Profile.Query.Event, Pid = Profile.Query.Pid, Tid = Profile.Query.Tid,
        FromNs = Profile.Query.FromNs, ToNs = Profile.Query.ToNs,
    };

    /// <summary>Events in store order.</summary>
    public IReadOnlyList<StoredEvent> Events => Profile.Events;

    /// <summary>Session facts (<c>meta</c> table).</summary>
    public IReadOnlyDictionary<string, string> Meta => Profile.Meta;

    /// <summary>Locations resolved, in <see cref="Location.Index"/> order.</summary>
    public IReadOnlyList<Location> Frames => Profile.Locations;

    /// <summary>Symbolization warnings, each once.</summary>
    public IReadOnlyList<string> Warnings => Profile.Warnings;

    /// <summary>The event named <paramref name="name"/> (case-insensitive), or the first event when null; <see cref="XenProf.Hypervisor.Binary.XenProfUserException"/> for an unknown name.</summary>
    public StoredEvent PickEvent(string? name) => Profile.PickEvent(name);

    /// <summary>The events a selection covers: the named one, or all of them.</summary>
    public IReadOnlyList<StoredEvent> EventsOf(FlameSelection selection) =>
        selection.Event == null ? Events : [PickEvent(selection.Event)];

    /// <summary>
    /// The selected samples, in time order (ties in the order they were stored). The domain filter applies to the stored
    /// domain, as opreport's does (a passive domain's samples are dom0's); each sample carries its effective domain, so
    /// tracks, profiles and timelines show passive domains apart.
    /// </summary>
    public IEnumerable<StoredSample> Samples(FlameSelection selection)
    {
        EventId? ev = selection.Event == null ? null : PickEvent(selection.Event).Id;
        foreach (var s in Profile.Samples)
        {
            if (ev != null && s.Event != ev.Value) continue;
            if (selection.Pid != null && s.Pid != selection.Pid) continue;
            if (selection.Tid != null && s.Tid != selection.Tid) continue;
            if (selection.FromNs != null && s.TimeNs < selection.FromNs) continue;
            if (selection.ToNs != null && s.TimeNs >= selection.ToNs) continue;
            yield return s;
        }
    }

    /// <summary>The locations of stack <paramref name="stack"/>, root first (outermost caller first, sampled frame last).</summary>
    public IReadOnlyList<Location> StackOf(StackId stack) => Profile.StackOf(stack);

    /// <summary>Time of the session's first sample (session clock, ns), or 0 when it has none.</summary>
    public long FirstSampleNs() => Profile.FirstSampleNs;

    /// <summary>The caller's node of stack node <paramref name="stack"/> (0 at the root).</summary>
    public StackId ParentStack(StackId stack) => Profile.ParentStack(stack);

    /// <summary>See <see cref="ProfileLabels.ProcessName"/>.</summary>
    public string ProcessName(int domain, int pid) => Profile.Labels.ProcessName(domain, pid);

    /// <summary>See <see cref="ProfileLabels.ThreadName"/>.</summary>
    public string ThreadName(int domain, int tid, int pid) => Profile.Labels.ThreadName(domain, tid, pid);

    /// <summary>See <see cref="ProfileLabels.DomainName"/>.</summary>
    public string DomainName(int domain) => Profile.Labels.DomainName(domain);

    /// <summary>
    /// Flame-graph stacks of one event (the selection's, else the first): the thread's name at the sample as the root
    /// frame (<see cref="ProfileLabels.RootName"/>; spaces as <c>_</c>, as stackcollapse-perf.pl writes it), then the
    /// resolved frames; one entry per distinct (domain, pid, name, stack), weighing each sample by <paramref name="weight"/>:
    /// one (<see cref="FoldedWeight.Samples"/>, the default here) or its period (<see cref="FoldedWeight.Period"/>, in the
    /// event's unit, as stackcollapse-perf.pl sums perf script's period).
    /// </summary>
    public IReadOnlyList<FlameStack> FlameStacks(FlameSelection selection, FoldedWeight weight = FoldedWeight.Samples)
    {
        bool period = weight == FoldedWeight.Period;
        var ev = PickEvent(selection.Event);
        var sums = new Dictionary<(int, int, CommId, StackId), long>();
        if (selection is { Pid: null, Tid: null, FromNs: null, ToNs: null } || Profile.Samples.Count == 0)
        {
            foreach (var t in Profile.StackTotals)
            {
                if (t.Event != ev.Id) continue;
                var key = (t.Domain, t.Pid, t.Comm, t.Stack);
                sums[key] = sums.GetValueOrDefault(key) + (period ? t.Period : t.Weight);
            }
        }
        else
        {
            foreach (var s in Samples(selection with { Event = ev.Name }))
            {
                var key = (s.Domain, s.Pid, s.Comm, s.Stack);
                sums[key] = sums.GetValueOrDefault(key) + (period ? s.Period : s.Weight);
            }
        }
        var list = new List<FlameStack>(sums.Count);
        var roots = new Dictionary<(int, int, CommId), FlameFrame>();
        foreach (var ((dom, pid, comm, stack), n) in sums)
        {
            if (!roots.TryGetValue((dom, pid, comm), out var root)) // as stackcollapse-perf.pl names the root, once per process and thread name
                roots[(dom, pid, comm)] = root = new FlameFrame(Profile.Labels.RootName(dom, pid, comm).Replace(' ', '_'), FrameKind.Process);
            list.Add(new FlameStack(new LocationFrames(root, StackOf(stack)), n));
        }
        return list;
    }
}

/// <summary>
/// A profile stack's frames as a flame stack reads them: the process frame, then each location's name and kind, made
/// when read. A system-wide trace has 842,548 stacks of about 30 frames, whose copies as frame arrays were 400 MB.
/// </summary>
internal sealed class LocationFrames(FlameFrame root, IReadOnlyList<Location> frames) : IReadOnlyList<FlameFrame>
{
    public int Count => frames.Count + 1;

    public FlameFrame this[int index] => index == 0 ? root : new FlameFrame(frames[index - 1].Name, frames[index - 1].Kind);

    public IEnumerator<FlameFrame> GetEnumerator()
    {
        for (int i = 0; i < Count; i++) yield return this[i];
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
