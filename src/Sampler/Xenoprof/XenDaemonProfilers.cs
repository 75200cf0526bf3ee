using XenProf.Hypervisor.Binary;
using XenProf.Hypervisor.Xenoprof;
using XenProf.Sampler.Session;

namespace XenProf.Sampler.Xenoprof;

/// <summary>Builds the opcontrol daemon's profiler for a Xen session (<c>--hypervisor=emulated:SCENARIO</c> or <c>privcmd</c>).</summary>
public static class XenDaemonProfilers
{
    /// <summary>Prefix of the emulated hypervisor spec.</summary>
    public const string EmulatedPrefix = "emulated:";

    /// <summary>
    /// Checks a <c>--hypervisor</c> value: <c>emulated:FILE</c> (the file must exist; returned made absolute) or <c>privcmd</c>.
    /// Throws <see cref="XenProfUserException"/> otherwise.
    /// </summary>
    public static string Normalize(string spec)
    {
        if (spec == "privcmd") return spec;
        if (spec.StartsWith(EmulatedPrefix, StringComparison.Ordinal))
        {
            var file = spec[EmulatedPrefix.Length..];
            if (!File.Exists(file)) throw new XenProfUserException($"--hypervisor={spec}: scenario file {file} not found");
            return EmulatedPrefix + Path.GetFullPath(file);
        }
        throw new XenProfUserException($"--hypervisor={spec}: expected emulated:SCENARIO.json or privcmd");
    }

    /// <summary>
    /// The profiler for <paramref name="config"/>: the scenario is resolved against the real images and run on an
    /// <see cref="EmulatedHypervisor"/> whose buffers live in the session directory; <paramref name="open"/> reads each
    /// image's functions by name (<see cref="ScenarioResolver"/>). <c>privcmd</c> profiles the real Xen
    /// through <c>/dev/xen/privcmd</c> (<see cref="PrivcmdDaemonProfiler"/>; a clear <see cref="XenUnavailableException"/> where it is absent).
    /// </summary>
    public static IDaemonProfiler Open(SessionDirectory dir, SessionConfig config, ImageFunctionOpener open, TextWriter? log)
    {
        var spec = config.Hypervisor ?? throw new ArgumentException("not a Xen session");
        var options = config.Xen ?? new XenSessionOptions();
        if (spec == "privcmd")
            return PrivcmdDaemonProfiler.Open(dir, options with { Events = options.Events.Count > 0 ? options.Events : config.Events, CallgraphDepth = Math.Max(options.CallgraphDepth, config.CallgraphDepth) }, log);
        var scenario = Scenario.Load(spec[EmulatedPrefix.Length..]);
        var resolved = ScenarioResolver.Resolve(scenario, open, log: log);
        if (options.XenImage == null && resolved.ImagePaths.Values.FirstOrDefault(p => p.Contains("xen-syms", StringComparison.Ordinal)) is { } xs)
            options = options with { XenImage = xs };
        var xen = new EmulatedHypervisor(resolved, Path.Combine(dir.Path, "xenoprof-buffers.bin"));
        return XenDaemonProfiler.Open(dir, options with { Events = options.Events.Count > 0 ? options.Events : config.Events, CallgraphDepth = Math.Max(options.CallgraphDepth, config.CallgraphDepth) }, xen, log);
    }
}
