using System.CommandLine;
using XenProf.Hypervisor.Events;

namespace XenProf.Cli.Commands;

/// <summary><c>xenoprof list-events</c>: the event catalogue and whether this machine can count each event.</summary>
internal static class ListEventsCommand
{
    public static Command Create()
    {
        var cmd = new Command("list-events", "List the events XenProf knows and which this machine can count") { Run.Verbose };
        cmd.SetAction(pr => Run.Guarded("list-events", pr.GetValue(Run.Verbose), ct => Execute(Console.Out)));
        return cmd;
    }

    /// <summary>Probes every catalogue event and prints one block per event.</summary>
    public static int Execute(TextWriter stdout)
    {
        var results = EventCatalogue.Probe();
        foreach (var r in results)
        {
            var e = r.Event;
            stdout.WriteLine($"{e.Name}: {e.Description}");
            var aliases = e.Aliases.Count > 0 ? $" (also: {string.Join(", ", e.Aliases)})" : "";
            stdout.WriteLine($"    {e.PerfDescription}{aliases}; count in {e.Unit}, default {e.DefaultCount}, minimum {e.MinimumCount}");
            stdout.WriteLine(r.Available ? "    available on this machine" : $"    NOT available: {r.Reason}");
        }
        var def = EventCatalogue.DefaultSpec(d => results.First(x => x.Event == d).Available);
        stdout.WriteLine();
        stdout.WriteLine($"Default event here: {def}");
        return 0;
    }
}
