using System.CommandLine;
using XenProf.Sampler.Fleet;

namespace XenProf.Cli.Options;

/// <summary>Options of the verbs that speak to the fleet database (ClickHouse): <c>push</c> and <c>opreport --clickhouse</c>.</summary>
internal static class FleetOptions
{
    /// <summary><c>--clickhouse=URL</c>: the server's HTTP interface.</summary>
    public static Option<string?> ClickHouse() => new("--clickhouse")
    {
        Description = "ClickHouse server's HTTP URL, e.g. http://127.0.0.1:8123/ (user and password as http://USER:PASSWORD@HOST:PORT/)",
    };

    /// <summary><c>--database=DB</c>.</summary>
    public static Option<string> Database() => new("--database")
    {
        Description = $"ClickHouse database of the pushed sessions (default {FleetSchema.DefaultDatabase}; created by push when missing)",
        DefaultValueFactory = _ => FleetSchema.DefaultDatabase,
    };
}
