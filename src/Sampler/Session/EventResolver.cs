using XenProf.Hypervisor.Events;
using XenProf.Hypervisor.PerfEvents;
using XenProf.Sampler.Store;

namespace XenProf.Sampler.Session;

/// <summary>An event spec resolved against the catalogue: what is stored, what is opened, and a note for the report header (set for the default event).</summary>
public sealed record ResolvedEvent(StoredEvent Stored, PerfEventRequest Request, string? Note);

/// <summary>Resolves opcontrol/record event specs (<c>NAME:COUNT[:UNITMASK[:KERNEL[:USER]]]</c>) into perf requests.</summary>
public static class EventResolver
{
    /// <summary>
    /// Resolves <paramref name="specs"/>; an empty list means the default event (cycles where the PMU has
    /// them, else <c>CPU_CLOCK:1000000</c>), which the returned note names. Throws <see cref="XenProf.Hypervisor.Binary.XenProfUserException"/>
    /// for a malformed spec or unknown event, and for the same event given twice.
    /// </summary>
    public static IReadOnlyList<ResolvedEvent> Resolve(IReadOnlyList<string> specs)
    {
        var list = new List<ResolvedEvent>();
        if (specs.Count == 0)
        {
            var spec = EventCatalogue.DefaultSpec();
            var note = spec.Name == EventCatalogue.PreferredDefault.Name
                ? $"Default event {spec}: the PMU counts cycles"
                : $"Default event {spec}: this machine has no hardware cycles event, so the software clock (ns) was sampled";
            list.Add(Make(spec, note));
        }
        else
        {
            foreach (var s in specs) list.Add(Make(EventSpec.Parse(s), null));
        }
        var dup = list.GroupBy(e => e.Stored.Name).FirstOrDefault(g => g.Count() > 1);
        if (dup != null) throw new XenProf.Hypervisor.Binary.XenProfUserException($"event {dup.Key} given more than once");
        return list;
    }

    private static ResolvedEvent Make(EventSpec spec, string? note)
    {
        var request = EventCatalogue.Resolve(spec);
        EventCatalogue.TryFind(spec.Name, out var def);
        var stored = new StoredEvent(def.Name, (uint)request.Type, request.Config, request.Period, spec.UnitMask, spec.Kernel, spec.User,
            def.Unit, def.Description);
        return new ResolvedEvent(stored, request with { Name = def.Name }, note);
    }
}
