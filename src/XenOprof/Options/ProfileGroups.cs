using System.CommandLine;
using XenProf.Reporter.Profile;

namespace XenProf.Cli.Options;

/// <summary>One side of a differential report as typed: <c>{ SOURCE [terms…] }</c>.</summary>
/// <param name="Source">A session directory, <c>session:NAME</c> or a trace file.</param>
/// <param name="Terms">The profile specification terms after the source (<c>image:…</c>, <c>tid:…</c>…).</param>
internal sealed record ProfileGroup(string Source, IReadOnlyList<string> Terms)
{
    /// <summary>How the header names this side: the source and its terms.</summary>
    public override string ToString() => string.Join(' ', Terms.Prepend(Source));
}

/// <summary>
/// oprofile's differential syntax, <c>opreport { A } { B }</c> (opreport(1), "differential profiles"): two groups in
/// braces, the base first. A brace may stand alone or touch its neighbour (<c>{A}</c>).
/// </summary>
internal static class ProfileGroups
{
    /// <summary>opreport's argument: a trace file, <c>session:NAME</c>, or <c>{ BASE } { NEW }</c> (a differential report).</summary>
    public static Argument<string[]> Argument() => new("profile")
    {
        Description = CommonOptions.TraceFile().Description + "; or two profiles, { BASE } { NEW }, for a differential report (each a session directory, session:NAME or a trace file)",
        Arity = ArgumentArity.ZeroOrMore,
    };

    /// <summary>The one source of a report that is not differential (null: the session in --session-dir).</summary>
    /// <exception cref="UserErrorException">More than one token.</exception>
    public static string? OneSource(string[]? tokens) => tokens is null or { Length: 0 } ? null : tokens.Length == 1 ? tokens[0]
        : throw new UserErrorException($"'{string.Join(' ', tokens)}': expected one trace file or session:NAME, or two profiles as {{ BASE }} {{ NEW }}");

    /// <summary>The two groups of <paramref name="tokens"/>, or null when they hold no brace (not a differential report).</summary>
    /// <exception cref="UserErrorException">Braces that do not make exactly two non-empty groups, or tokens outside them.</exception>
    public static (ProfileGroup Base, ProfileGroup New)? Parse(IReadOnlyList<string> tokens)
    {
        if (Split(tokens) is not { } result) return null;
        QueryOf(result.Base);
        QueryOf(result.New);
        return result;
    }

    /// <summary>
    /// The two groups of <paramref name="tokens"/> as typed, their terms not yet checked (a fleet report reads them as
    /// its own selectors), or null when they hold no brace.
    /// </summary>
    /// <exception cref="UserErrorException">Braces that do not make exactly two non-empty groups, or tokens outside them.</exception>
    public static (ProfileGroup Base, ProfileGroup New)? Split(IReadOnlyList<string> tokens)
    {
        if (!tokens.Any(t => t.Contains('{') || t.Contains('}'))) return null;
        var split = new List<string>();
        foreach (var t in tokens)
        {
            var s = t;
            while (s.StartsWith('{')) { split.Add("{"); s = s[1..]; }
            int closing = 0;
            while (s.EndsWith('}')) { closing++; s = s[..^1]; }
            if (s.Length > 0) split.Add(s);
            for (int i = 0; i < closing; i++) split.Add("}");
        }
        var groups = new List<List<string>>();
        List<string>? open = null;
        foreach (var t in split)
        {
            if (t == "{")
            {
                if (open != null) throw Usage("a '{' inside a group");
                groups.Add(open = []);
            }
            else if (t == "}")
            {
                if (open == null) throw Usage("a '}' without its '{'");
                if (open.Count == 0) throw Usage("an empty group '{ }'");
                open = null;
            }
            else if (open == null) throw Usage($"'{t}' outside the braces");
            else open.Add(t);
        }
        if (open != null) throw Usage("a '{' without its '}'");
        if (groups.Count != 2) throw Usage($"{groups.Count} group{(groups.Count == 1 ? "" : "s")}");
        return (Group(groups[0]), Group(groups[1]));
    }

    /// <summary>
    /// The query a group's profile-specification terms select (<see cref="ProfileSpec"/>: <c>image:</c>, <c>tid:</c>,
    /// <c>event:</c>, <c>domain:</c>…). Throws <see cref="UserErrorException"/> for a second source or a <c>session:</c>
    /// term inside the group (the group's first word is its source).
    /// </summary>
    public static ProfileOptions QueryOf(ProfileGroup group)
    {
        var spec = ProfileSpec.Parse(group.Terms);
        if (spec.Rest.Count > 0)
            throw new UserErrorException($"{{ {group} }}: '{spec.Rest[0]}' is neither a tag:value term nor allowed here; a group holds one source (a session directory, session:NAME or a trace file) and then terms");
        if (spec.Session != null)
            throw new UserErrorException($"{{ {group} }}: session:{spec.Session} must come first in the group, as its source");
        return spec.ApplyTo(new ProfileOptions());
    }

    private static ProfileGroup Group(List<string> tokens) => new(tokens[0], tokens.Skip(1).ToList());

    private static UserErrorException Usage(string what) =>
        new($"differential profile: {what}; expected {{ BASE }} {{ NEW }}, each a session directory, session:NAME or a trace file");
}
