using Spectre.Console;

namespace XenProf.Cli;

/// <summary>Progress for long work: a Spectre.Console status line on stderr when it is a terminal, nothing when piped.</summary>
internal static class Progress
{
    /// <summary>Runs <paramref name="work"/>, which reports progress text through the callback it is given.</summary>
    public static T Run<T>(TextWriter stderr, string what, Func<Action<string>, T> work)
    {
        if (Console.IsErrorRedirected || !ReferenceEquals(stderr, Console.Error)) return work(_ => { });
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return console.Status().Start($"xenoprof: {what}…", ctx =>
        {
            var last = DateTime.MinValue;
            return work(text =>
            {
                if ((DateTime.UtcNow - last).TotalMilliseconds < 200) return;
                last = DateTime.UtcNow;
                ctx.Status($"xenoprof: {what}: {Markup.Escape(text)}");
            });
        });
    }
}
