using System.Globalization;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Profile;

/// <summary>
/// Decides a separated profile's columns (<see cref="ProfileClass"/>) the way opreport classifies sample files into
/// profile classes (libpp/arrange_profiles.cpp): one class per distinct (event, tgid, tid, cpu) that has samples, the
/// attributes merged away left out; classes ordered by CPU, thread group, thread, then event; each named after the
/// attributes that differ between classes (<c>tgid:N</c>, <c>tid:N</c>, <c>cpu:N</c>, <c>EVENT:COUNT</c>) with the long
/// names opreport prints in its header ("Processes with a thread group ID of N", "Processes with a thread ID of N",
/// "Samples on CPU N"). Where opreport refuses classes that differ in more than one attribute (other than thread groups
/// whose only thread is their leader), these columns name every attribute that differs.
/// </summary>
internal static class Columns
{
    /// <summary>
    /// The columns of weights keyed (event index, tgid, tid, cpu), with -1 for a merged attribute. Without thread-group,
    /// thread or CPU separation the columns are the events and <paramref name="columnOf"/> is null; otherwise it maps each
    /// key to its column's index.
    /// </summary>
    public static IReadOnlyList<ProfileClass> Of(IReadOnlyList<StoredEvent> events, IEnumerable<(int Event, int Tgid, int Tid, int Cpu, long Weight, long Period, double Squares)> weights,
        Separation sep, out Dictionary<(int, int, int, int), int>? columnOf)
    {
        var totals = new Dictionary<(int Event, int Tgid, int Tid, int Cpu), (long Weight, long Period, double Squares)>();
        foreach (var w in weights)
        {
            ref var t = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(totals, (w.Event, w.Tgid, w.Tid, w.Cpu), out _);
            t.Weight += w.Weight; t.Period += w.Period; t.Squares += w.Squares;
        }
        ProfileClass Class(int index, int ev, int? tgid, int? tid, int? cpu, string name, string? longName, IEnumerable<(long Weight, long Period, double Squares)> of)
        {
            long weight = 0, period = 0; double squares = 0;
            foreach (var t in of) { weight += t.Weight; period += t.Period; squares += t.Squares; }
            return new ProfileClass(index, ev, tgid, tid, cpu, name, longName, weight, period, ProfileBuilder.EffectiveSamples(weight, period, squares));
        }
        string EventName(int e) => events[e].Name + ":" + events[e].Count.ToString(CultureInfo.InvariantCulture);

        if ((sep & (Separation.Tgid | Separation.Tid | Separation.Cpu)) == 0)
        {
            columnOf = null;
            return events.Select((e, i) => Class(i, i, null, null, null, EventName(i), null,
                totals.Where(kv => kv.Key.Event == i).Select(kv => kv.Value))).ToList();
        }

        var keys = totals.Keys.OrderBy(k => k.Cpu).ThenBy(k => k.Tgid).ThenBy(k => k.Tid).ThenBy(k => k.Event).ToList();
        bool Varies(Func<(int Event, int Tgid, int Tid, int Cpu), int> f) => keys.Select(f).Distinct().Count() > 1;
        bool cpu = Varies(k => k.Cpu), tgid = Varies(k => k.Tgid), tid = Varies(k => k.Tid), ev = Varies(k => k.Event);
        // opreport allows thread groups and threads together only when each class's tid is its tgid; it then names them by tid.
        if (tgid && tid && keys.All(k => k.Tgid == k.Tid)) tgid = false;

        columnOf = [];
        var list = new List<ProfileClass>();
        foreach (var k in keys)
        {
            var names = new List<string>();
            var longNames = new List<string>();
            if (cpu) { names.Add($"cpu:{k.Cpu}"); longNames.Add($"Samples on CPU {k.Cpu}"); }
            if (tgid) { names.Add($"tgid:{k.Tgid}"); longNames.Add($"Processes with a thread group ID of {k.Tgid}"); }
            if (tid) { names.Add($"tid:{k.Tid}"); longNames.Add($"Processes with a thread ID of {k.Tid}"); }
            if (ev || names.Count == 0) names.Add(EventName(k.Event));
            if (ev && longNames.Count > 0) longNames.Add($"{events[k.Event].Name} events");
            columnOf[k] = list.Count;
            list.Add(Class(list.Count, k.Event, sep.HasFlag(Separation.Tgid) ? k.Tgid : null,
                sep.HasFlag(Separation.Tid) ? k.Tid : null, sep.HasFlag(Separation.Cpu) ? k.Cpu : null,
                string.Join(" ", names), longNames.Count == 0 ? null : string.Join(", ", longNames), [totals[k]]));
        }
        // Every event keeps a column, even one without samples, as an unseparated report keeps it.
        for (int e = 0; e < events.Count; e++)
            if (!keys.Any(k => k.Event == e))
            {
                var k = (e, -1, -1, -1);
                columnOf[k] = list.Count;
                list.Add(new ProfileClass(list.Count, e, null, null, null, EventName(e), null, 0, 0, 0));
            }
        return list;
    }
}

/// <summary>
/// Which application a sample is counted under with <see cref="Separation.Lib"/>, after opcontrol(1)'s
/// <c>--separate=lib</c> ("per-application profiles for libraries") and <c>kernel</c> ("for the kernel and kernel
/// modules"): a process's application is the executable it mapped (the ELF image named like the process, else its
/// first ELF mapping that is not a shared library); samples in any other user image of the process (libraries, JIT
/// code, <c>[vdso]</c>) count under it, and so do kernel and module samples with <see cref="Separation.Kernel"/>.
/// Everything else, and every sample of a process with no known executable, is its own application.
/// </summary>
internal sealed class Applications(IReadOnlyDictionary<(int Domain, int Pid), IReadOnlyList<ImageId>> mapped,
    IReadOnlyDictionary<ImageId, StoredImage> images, IReadOnlyDictionary<(int Domain, int Pid), StoredProcess> processes, bool kernel)
{
    private readonly Dictionary<(int, int), StoredImage?> _exe = [];

    /// <summary>The application image of a sample of (<paramref name="domain"/>, <paramref name="pid"/>) in <paramref name="image"/>.</summary>
    public StoredImage Of(int domain, int pid, StoredImage image)
    {
        bool dependent = image.Kind switch
        {
            ImageKind.Elf or ImageKind.Anonymous or ImageKind.Managed or ImageKind.Vdso => true,
            ImageKind.Kernel or ImageKind.KernelModule => kernel,
            _ => false,
        };
        if (!dependent || image.Domain != domain) return image;
        return Exe(domain, pid) ?? image;
    }

    private StoredImage? Exe(int domain, int pid)
    {
        if (_exe.TryGetValue((domain, pid), out var e)) return e;
        e = null;
        if (mapped.TryGetValue((domain, pid), out var ids))
        {
            var elf = ids.Where(images.ContainsKey).Select(i => images[i]).ToList();
            var comm = processes.TryGetValue((domain, pid), out var p) ? p.Comm : "";
            e = (comm.Length > 0 ? elf.LastOrDefault(i => Path.GetFileName(i.Path).StartsWith(comm, StringComparison.Ordinal)) : null)
                ?? elf.FirstOrDefault(i => !IsSharedLibrary(i.Path));
        }
        return _exe[(domain, pid)] = e;
    }

    // ld-linux-x86-64.so.2, libc.so.6, libfoo.so: named as shared objects are.
    private static bool IsSharedLibrary(string path)
    {
        var name = Path.GetFileName(path);
        return name.EndsWith(".so", StringComparison.Ordinal) || name.Contains(".so.", StringComparison.Ordinal);
    }
}
