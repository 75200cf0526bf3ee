using XenProf.Sampler.Store;

namespace XenProf.Reporter.Flame;

/// <summary>Turns a profile's resolved stacks into flame-graph stacks: the process name as the root frame, then callers down to the sampled frame.</summary>
public static class ProfileFlame
{
    /// <summary>The event named <paramref name="name"/> (case-insensitive), or the first event when null; throws <see cref="XenProf.Hypervisor.Binary.XenProfUserException"/> for an unknown name.</summary>
    public static StoredEvent PickEvent(Profile.Profile profile, string? name)
    {
        if (profile.Events.Count == 0) throw new XenProf.Hypervisor.Binary.XenProfUserException("the session has no events");
        if (name == null) return profile.Events[0];
        return profile.Events.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new XenProf.Hypervisor.Binary.XenProfUserException($"event {name} is not in this session (it has {string.Join(", ", profile.Events.Select(e => e.Name))})");
    }

    /// <summary>Stacks of one event (see <see cref="PickEvent"/>), weights in samples.</summary>
    public static IReadOnlyList<FlameStack> Stacks(Profile.Profile profile, string? eventName = null)
    {
        var ev = PickEvent(profile, eventName);
        var list = new List<FlameStack>();
        foreach (var s in profile.Stacks)
        {
            if (s.Event != ev.Id) continue;
            var frames = new List<FlameFrame>(s.Frames.Count + 1) { new(s.Process, FrameKind.Process) };
            foreach (var (name, kind) in s.Frames) frames.Add(new FlameFrame(name, KindOf(kind)));
            list.Add(new FlameStack(frames, s.Samples));
        }
        return list;
    }

    /// <summary>Maps an image kind to the frame kind that picks its colour.</summary>
    public static FrameKind KindOf(ImageKind kind) => kind switch
    {
        ImageKind.Kernel or ImageKind.KernelModule or ImageKind.KernelImage => FrameKind.Kernel,
        ImageKind.Hypervisor => FrameKind.Hypervisor,
        ImageKind.Anonymous or ImageKind.Managed => FrameKind.Jit,
        ImageKind.Unknown => FrameKind.Unknown,
        _ => FrameKind.User,
    };
}
