using System.CommandLine;
using System.Globalization;
using XenProf.Cli.Options;
using XenProf.Reporter.Profile;
using XenProf.Reporter.Text;
using XenProf.Sampler.Fleet;

namespace XenProf.Cli.Commands;

/// <summary><c>opreport --clickhouse URL [host:NAME[,NAME]] [session:ID[,ID]] [tag:value…] [--from T] [--to T]</c>: one report over many hosts' pushed sessions.</summary>
internal sealed class OpreportFleet
{
    /// <summary><c>--clickhouse</c>.</summary>
    public Option<string?> Url { get; } = FleetOptions.ClickHouse();

    /// <summary><c>--database</c>.</summary>
    public Option<string> Database { get; } = FleetOptions.Database();

    /// <summary><c>--from</c>.</summary>
    public Option<string?> From { get; } = new("--from") { Description = "With --clickhouse: only samples taken at or after this wall-clock time (ISO 8601, UTC unless an offset is given)" };

    /// <summary><c>--to</c>.</summary>
    public Option<string?> To { get; } = new("--to") { Description = "With --clickhouse: only samples taken before this wall-clock time (ISO 8601)" };

    /// <summary>The fleet database to read when <c>--clickhouse</c> is given (its URL, <c>--database</c>, <c>--from</c>,
    /// <c>--to</c>); null otherwise. <c>--from</c>/<c>--to</c> without <c>--clickhouse</c>, or a <c>host:</c> term among
    /// <paramref name="specs"/> without it, are a user error.</summary>
    public FleetTarget? Target(ParseResult pr, IReadOnlyList<string> specs)
    {
        var url = pr.GetValue(Url);
        if (url == null)
        {
            if (pr.GetValue(From) != null || pr.GetValue(To) != null) throw new UserErrorException("--from/--to select wall-clock windows of pushed sessions: give --clickhouse URL");
            if (specs.FirstOrDefault(s => s.StartsWith("host:", StringComparison.Ordinal)) is { } host)
                throw new UserErrorException($"{host}: host: selectors pick pushed sessions; give --clickhouse URL");
            return null;
        }
        return new FleetTarget(url, pr.GetValue(Database)!, Time("--from", pr.GetValue(From)), Time("--to", pr.GetValue(To)));
    }

    /// <summary>
    /// The sessions <paramref name="terms"/> select (<c>host:NAME[,NAME]</c>, <c>session:ID[,ID]</c>, here a pushed
    /// session's id) in <paramref name="target"/>'s database and window, and <paramref name="query"/> narrowed by the
    /// other terms, a profile specification (<see cref="ProfileSpec"/>: <c>event:</c>, <c>tgid:</c>, <c>image:</c>…).
    /// Anything else, or a term that contradicts <paramref name="query"/>, is a user error.
    /// </summary>
    public static (FleetSelection Selection, ProfileOptions Query) Select(FleetTarget target, IEnumerable<string> terms, ProfileOptions query)
    {
        var hosts = new List<string>();
        var sessions = new List<string>();
        var rest = new List<string>();
        foreach (var s in terms)
        {
            if (s.StartsWith("host:", StringComparison.Ordinal)) hosts.AddRange(Names(s, "host:"));
            else if (s.StartsWith("session:", StringComparison.Ordinal)) sessions.AddRange(Names(s, "session:"));
            else rest.Add(s);
        }
        var spec = ProfileSpec.Parse(rest);
        if (spec.Rest.Count > 0)
            throw new UserErrorException($"{spec.Rest[0]}: with --clickhouse expected host:NAME[,NAME], session:ID[,ID] or profile specification terms tag:value");
        return (new FleetSelection { Database = target.Database, Hosts = hosts, Sessions = sessions, From = target.From, To = target.To }, spec.ApplyTo(query));
    }

    private static IEnumerable<string> Names(string spec, string prefix)
    {
        var names = spec[prefix.Length..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return names.Length > 0 ? names : throw new UserErrorException($"{spec}: expected {prefix}NAME[,NAME]");
    }

    private static DateTimeOffset? Time(string option, string? value) =>
        value == null ? null
        : DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t
        : throw new UserErrorException($"{option} {value}: expected a wall-clock time such as 2026-12-06T22:00:00Z");

    /// <summary>Builds the merged profile in ClickHouse and writes the report; warnings (symbols known on some hosts only) go to stderr.</summary>
    public static int Execute(FleetTarget target, IReadOnlyList<string> terms, ProfileOptions symbols, OpreportOptions options, string title, TextWriter stdout, string? domain, CancellationToken ct)
    {
        if (options.Callgraph && options.Format != OpreportFormat.Text)
            throw new UserErrorException($"-c/--callgraph is written as text only; drop --{options.Format.ToString().ToLowerInvariant()}");
        int? only = domain == null ? null
            : int.TryParse(domain, NumberStyles.None, CultureInfo.InvariantCulture, out var d) ? d
            : throw new UserErrorException($"--domain={domain}: with --clickhouse expected a domain id");
        using var ch = new ClickHouseHttp(target.Url);
        var (selection, query) = Select(target, terms, symbols with { Domain = only, WithDetails = options.Details || options.ShowAddress, WithStacks = options.Callgraph });
        var profile = FleetProfiles.Load(ch, selection, query, ct);
        OpreportOutput.Write(profile, stdout, options, title);
        stdout.Flush();
        foreach (var warning in profile.Warnings) Console.Error.WriteLine("xenoprof opreport: warning: " + warning);
        return 0;
    }

    /// <summary>
    /// The differential report of two selections of pushed sessions (<c>opreport { host:a } { host:b }</c>, <c>diff
    /// --clickhouse URL host:a host:b</c>): each group's terms build one merged profile, compared and written as the
    /// local differential report is (<see cref="DiffCommand.Write"/>).
    /// </summary>
    public static int ExecuteDiff(FleetTarget target, ProfileGroup baseGroup, ProfileGroup newGroup, DiffRequest request, string verb, TextWriter stdout, CancellationToken ct)
    {
        DiffCommand.Check(request);
        var query = new ProfileOptions { WithStacks = request.Callgraph };
        var (b, n) = (Select(target, baseGroup.Terms.Prepend(baseGroup.Source), query), Select(target, newGroup.Terms.Prepend(newGroup.Source), query));
        using var ch = new ClickHouseHttp(target.Url);
        return DiffCommand.Write(FleetProfiles.Load(ch, b.Selection, b.Query, ct), FleetProfiles.Load(ch, n.Selection, n.Query, ct), baseGroup, newGroup, request, verb, stdout);
    }
}

/// <summary>The fleet database a verb reads: <c>--clickhouse</c> URL, <c>--database</c> and the <c>--from</c>/<c>--to</c> window.</summary>
internal sealed record FleetTarget(string Url, string Database, DateTimeOffset? From, DateTimeOffset? To);
