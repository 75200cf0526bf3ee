using Spectre.Console;

namespace XenProf.Cli;

/// <summary>Progress for long work: Spectre.Console on stderr when it is a terminal, nothing when piped.</summary>
internal static class Progress
{
    /// <summary>
    /// Runs <paramref name="work"/> with a progress bar for the fraction (0..1) it reports through the
    /// <see cref="IProgress{T}"/> it is given; when stderr is not a terminal the work gets null and nothing is drawn.
    /// The bar is cleared when the work ends, so what the command prints next stands alone.
    /// </summary>
    public static T RunWithBar<T>(TextWriter stderr, string what, Func<IProgress<double>?, T> work)
    {
        if (Console.IsErrorRedirected || !ReferenceEquals(stderr, Console.Error)) return work(null);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return console.Progress().AutoClear(true).HideCompleted(true).Start(ctx =>
        {
            var task = ctx.AddTask($"xenoprof: {Markup.Escape(what)}", maxValue: 1.0);
            return work(new Fraction(f => task.Value = Math.Clamp(f, 0, 1)));
        });
    }

    /// <summary>Reports on the caller's thread, as it happens (System.Progress would post to the thread pool).</summary>
    private sealed class Fraction(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }

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
