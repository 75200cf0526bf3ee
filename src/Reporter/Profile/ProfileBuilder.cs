using XenProf.Sampler.Store;

namespace XenProf.Reporter.Profile;

/// <summary>Builds a <see cref="Profile"/> from a session store: aggregates samples by stack, then names each distinct frame once.</summary>
public static class ProfileBuilder
{
    /// <summary>
    /// Reads <paramref name="store"/> and symbolizes with <paramref name="symbolizer"/>. A frame the source named
    /// itself (<c>frame_names</c>: perf script text, .nettrace) keeps that name; the symbolizer names the rest.
    /// </summary>
    public static Profile Build(SessionStore store, IFrameSymbolizer symbolizer, ProfileOptions? options = null)
    {
        options ??= new ProfileOptions();
        var meta = new Dictionary<string, string>(store.ReadMeta());
        var passive = ImageNames.PassiveDomains(meta);
        // A passive domain's samples are dom0's report's (ImageNames.ReportDomain).
        var stackTotals = (options.Domain is { } only
            ? store.ReadStackTotals().Where(t => ImageNames.ReportDomain(t.Domain, passive) == only)
            : store.ReadStackTotals()).ToList();
        // perf's dummy event (software, PERF_COUNT_SW_DUMMY = 9) only carries side-band records; like perf report,
        // leave it out unless it has samples.
        var sampled = stackTotals.Select(t => t.Event).ToHashSet();
        var events = store.ReadEvents().Where(e => !(e.PerfType == 1 && e.PerfConfig == 9) || sampled.Contains(e.Id)).ToList();
        var evIndex = events.Select((e, i) => (e.Id, i)).ToDictionary(x => x.Id, x => x.i);
        var images = store.ReadImages();
        var frames = store.ReadFrames();
        var stacks = store.ReadStacks();
        var storedNames = store.ReadFrameNames();
        var processes = store.ReadProcesses();
        int n = events.Count;
        var totals = new long[n];

        var imageRows = new Dictionary<ImageId, ImageRow>();
        var symbolRows = new Dictionary<(ImageId, string), SymbolRow>();
        var frameNames = new Dictionary<FrameId, string?>();
        foreach (var (f, name) in storedNames) frameNames[f] = name;
        var resolved = new List<ResolvedStack>();

        var locator = options.WithDetails ? symbolizer as IFrameAddressSymbolizer : null;
        var located = new Dictionary<FrameId, FrameSymbol?>();

        FrameSymbol? LocationOf(FrameId f)
        {
            if (located.TryGetValue(f, out var l)) return l;
            var fr = frames[f];
            if (storedNames.TryGetValue(f, out var named))
            {
                // The source's own name; its offset is a runtime address or an ordinal, not a place in the file.
                l = named == null ? null : new FrameSymbol(named, 0, 0, fr.Offset);
                located[f] = l;
                return l;
            }
            l = locator!.Locate(images[fr.Image], fr.Offset);
            located[f] = l;
            frameNames[f] = l?.Name;
            return l;
        }

        string? NameOf(FrameId f)
        {
            if (frameNames.TryGetValue(f, out var s)) return s;
            if (locator != null) return LocationOf(f)?.Name;
            var fr = frames[f];
            s = symbolizer.Symbolize(images[fr.Image], fr.Offset);
            frameNames[f] = s;
            return s;
        }

        string DisplayOf(StoredImage image) => ImageNames.Display(image, ImageNames.IsPassive(image, passive));
        ImageRow RowOf(ImageId id) => imageRows.TryGetValue(id, out var r) ? r : imageRows[id] = new ImageRow(images[id], DisplayOf(images[id]), n);

        foreach (var t in stackTotals)
        {
            if (!evIndex.TryGetValue(t.Event, out var ei)) continue;
            totals[ei] += t.Weight;
            var leaf = frames[stacks[t.Stack].Frame];
            var img = RowOf(leaf.Image);
            img.Counts.Samples[ei] += t.Weight;
            var sym = NameOf(stacks[t.Stack].Frame) ?? Profile.NoSymbols;
            if (!symbolRows.TryGetValue((leaf.Image, sym), out var sr)) symbolRows[(leaf.Image, sym)] = sr = new SymbolRow(img, sym, n);
            sr.Counts.Samples[ei] += t.Weight;
            if (locator != null)
            {
                var loc = LocationOf(stacks[t.Stack].Frame);
                if (loc is { } l) { sr.Start = l.Start; sr.Size = l.Size; }
                sr.Detail(loc?.Address ?? leaf.Offset).Counts.Samples[ei] += t.Weight;
            }

            if (options.WithStacks)
            {
                var list = new List<(string, ImageKind)>();
                for (var s = t.Stack; s.Value != 0; s = stacks[s].Parent)
                {
                    var fid = stacks[s].Frame;
                    var im = images[frames[fid].Image];
                    list.Add((NameOf(fid) ?? "[" + DisplayOf(im).Trim('[', ']') + "]", im.Kind));
                }
                list.Reverse();
                var comm = processes.TryGetValue((t.Domain, t.Pid), out var p) ? p.Comm : t.Pid == 0 ? "swapper" : ":" + t.Pid;
                resolved.Add(new ResolvedStack(t.Domain, t.Pid, comm, list, t.Event, t.Weight));
            }
        }

        var imgList = imageRows.Values.OrderByDescending(r => r.Counts.Total).ThenBy(r => r.Name, StringComparer.Ordinal).ToList();
        var symList = symbolRows.Values.OrderByDescending(r => r.Counts.Total).ThenBy(r => r.ImageRow.Name, StringComparer.Ordinal)
            .ThenBy(r => r.Symbol, StringComparer.Ordinal).ToList();
        if (options.Domain is { } dom) meta[Profile.ReportDomainKey] = dom.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new Profile(events, meta, store.ReadCounters(), totals, imgList, symList, resolved, symbolizer.Warnings);
    }

    /// <summary>opreport's name of an image of a domain that is not passive (<see cref="ImageNames.Display"/>): the file's basename, or the bracketed pseudo name (<c>[kernel.kallsyms]</c>, <c>[vdso]</c>…).</summary>
    public static string DisplayName(StoredImage image) => ImageNames.Display(image, passive: false);
}
