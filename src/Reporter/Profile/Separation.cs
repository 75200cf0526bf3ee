using XenProf.Hypervisor.Binary;

namespace XenProf.Reporter.Profile;

/// <summary>
/// What a report keeps apart instead of adding together: oprofile's profile separation (opcontrol(1) <c>--separate</c>,
/// opreport(1) <c>--merge</c>). The store keeps every sample's pid, tid and cpu, so separation is chosen when the report
/// is built (<see cref="ProfileOptions.Separate"/>), not when samples are taken.
/// </summary>
[Flags]
public enum Separation
{
    /// <summary>Everything merged: one column per event, one row per image (or symbol).</summary>
    None = 0,

    /// <summary>Samples in shared libraries are counted per application (opcontrol <c>--separate=lib</c>): the image
    /// summary lists each application with its libraries as sub-rows, <c>-l</c> adds an <c>app name</c> column.</summary>
    Lib = 1,

    /// <summary>Kernel and kernel-module samples are counted per application too (<c>--separate=kernel</c>; implies
    /// <see cref="Lib"/>, as the oprofile manual says).</summary>
    Kernel = 2,

    /// <summary>One column per thread group (process; opreport's <c>tgid</c>).</summary>
    Tgid = 4,

    /// <summary>One column per thread (opreport's <c>tid</c>).</summary>
    Tid = 8,

    /// <summary>One column per CPU.</summary>
    Cpu = 16,

    /// <summary><c>--separate=thread</c>: per thread and per thread group.</summary>
    Thread = Tgid | Tid,

    /// <summary><c>--separate=all</c>.</summary>
    All = Lib | Kernel | Thread | Cpu,

    /// <summary>Not a separation but its opposite, set by opreport <c>--merge=unitmask</c> (or <c>all</c>): events that
    /// differ only in their unit mask are counted as one event. Never part of <see cref="All"/>.</summary>
    MergedUnitMasks = 64,
}

/// <summary>Parses <c>--separate</c> and <c>--merge</c> values with oprofile's spelling and rules.</summary>
public static class Separations
{
    /// <summary>The values <see cref="Parse"/> accepts, as opcontrol(1) lists them.</summary>
    public const string SeparateValues = "none, lib, kernel, thread, cpu or all";

    /// <summary>The values <see cref="Merge"/> accepts, as opreport(1) lists them.</summary>
    public const string MergeValues = "lib, cpu, tid, tgid, unitmask or all";

    /// <summary>
    /// Parses an opcontrol <c>--separate</c> list (<c>none,lib,kernel,thread,cpu,all</c>, comma-separated; null or empty
    /// = none). <c>kernel</c> implies <c>lib</c> (oprofile manual, opcontrol <c>--separate</c>); <c>none</c> clears what
    /// precedes it. Throws <see cref="XenProfUserException"/> naming <paramref name="option"/> for any other value.
    /// </summary>
    public static Separation Parse(string? value, string option = "--separate")
    {
        var s = Separation.None;
        foreach (var part in Split(value))
            s = part switch
            {
                "none" => Separation.None,
                "lib" or "library" => s | Separation.Lib,
                "kernel" => s | Separation.Kernel | Separation.Lib,
                "thread" => s | Separation.Thread,
                "cpu" => s | Separation.Cpu,
                "all" => Separation.All,
                _ => throw new XenProfUserException($"{option}={value}: unknown value '{part}'; expected {SeparateValues} (comma-separated)"),
            };
        return s;
    }

    /// <summary>
    /// Removes what an opreport <c>--merge</c> list (<c>lib,cpu,tid,tgid,unitmask,all</c>) merges from
    /// <paramref name="separate"/>, by oprofile's rules (pp/common_option.cpp <c>handle_merge_option</c>): <c>tgid</c>
    /// merges threads too; <c>lib</c> (or <c>library</c>) merges applications back, kernel included; <c>all</c> merges
    /// everything, unit masks included. <c>unitmask</c> sets <see cref="Separation.MergedUnitMasks"/>: events that
    /// differ only in their unit mask are counted as one. Throws <see cref="XenProfUserException"/> for any other value.
    /// </summary>
    public static Separation Merge(Separation separate, string? value, string option = "--merge")
    {
        foreach (var part in Split(value))
            separate &= part switch
            {
                "lib" or "library" => ~(Separation.Lib | Separation.Kernel),
                "cpu" => ~Separation.Cpu,
                "tid" => ~Separation.Tid,
                "tgid" => ~Separation.Thread,
                "unitmask" => ~Separation.None,
                "all" => Separation.MergedUnitMasks,
                _ => throw new XenProfUserException($"{option}={value}: unknown value '{part}'; expected {MergeValues} (comma-separated)"),
            };
        foreach (var part in Split(value))
            if (part is "unitmask" or "all") separate |= Separation.MergedUnitMasks;
        return separate;
    }

    /// <summary>The <c>--separate</c> spelling of <paramref name="s"/> (<c>none</c>, or e.g. <c>lib,cpu</c>).</summary>
    public static string Format(Separation s)
    {
        s &= ~Separation.MergedUnitMasks;
        if (s == Separation.None) return "none";
        var parts = new List<string>();
        if (s.HasFlag(Separation.Lib) && !s.HasFlag(Separation.Kernel)) parts.Add("lib");
        if (s.HasFlag(Separation.Kernel)) parts.Add("kernel");
        if (s.HasFlag(Separation.Thread)) parts.Add("thread");
        else if (s.HasFlag(Separation.Tgid)) parts.Add("tgid");
        else if (s.HasFlag(Separation.Tid)) parts.Add("tid");
        if (s.HasFlag(Separation.Cpu)) parts.Add("cpu");
        return string.Join(",", parts);
    }

    private static IEnumerable<string> Split(string? value) =>
        (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => p.ToLowerInvariant());
}
