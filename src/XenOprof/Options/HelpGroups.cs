using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Runtime.CompilerServices;

namespace XenProf.Cli.Options;

/// <summary>
/// Help in titled groups of options for the verbs that register them (<see cref="Set"/>); other verbs keep
/// System.CommandLine's own help. A registered verb's help is its description, usage and arguments, then one section per
/// group, then "Other options:" with whatever no group names (inherited ones such as <c>--help</c> too). System.CommandLine
/// 3.0 keeps its help layout API internal, so this small action writes the grouped form itself.
/// </summary>
internal static class HelpGroups
{
    private static readonly ConditionalWeakTable<Command, IReadOnlyList<(string Title, string[] Options)>> Registered = new();

    /// <summary>Registers <paramref name="groups"/> (a title and option names, e.g. <c>--symbols</c>) for <paramref name="command"/>.</summary>
    public static void Set(Command command, IReadOnlyList<(string Title, string[] Options)> groups) => Registered.AddOrUpdate(command, groups);

    /// <summary>Makes <paramref name="help"/> write registered verbs' help in groups, and any other help as before.</summary>
    public static void Install(HelpOption help) => help.Action = new GroupedHelpAction(help.Action);

    private sealed class GroupedHelpAction(CommandLineAction? fallback) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            var command = parseResult.CommandResult.Command;
            if (!Registered.TryGetValue(command, out var groups))
                return fallback is SynchronousCommandLineAction sync ? sync.Invoke(parseResult) : 0;
            Write(command, groups, parseResult.InvocationConfiguration.Output);
            return 0;
        }
    }

    /// <summary>Writes the grouped help of <paramref name="command"/> to <paramref name="w"/>.</summary>
    internal static void Write(Command command, IReadOnlyList<(string Title, string[] Options)> groups, TextWriter w)
    {
        var path = string.Join(' ', command.Parents.OfType<Command>().Reverse().Select(c => c is RootCommand ? "xenoprof" : c.Name).Append(command.Name));
        w.WriteLine("Description:");
        w.WriteLine("  " + command.Description);
        w.WriteLine();
        w.WriteLine("Usage:");
        w.WriteLine($"  {path} [options] {string.Join(' ', command.Arguments.Select(a => $"[{a.HelpName ?? a.Name}]"))}".TrimEnd());
        var sections = new List<(string Title, List<(string Name, string Text)> Rows)>();
        if (command.Arguments.Count > 0)
            sections.Add(("Arguments", command.Arguments.Select(a => ($"<{a.HelpName ?? a.Name}>", a.Description ?? "")).ToList()));
        var named = groups.SelectMany(g => g.Options).ToHashSet(StringComparer.Ordinal);
        foreach (var (title, names) in groups)
            sections.Add((title, names.Select(n => command.Options.FirstOrDefault(o => o.Name == n)).OfType<Option>().Where(o => !o.Hidden).Select(Row).ToList()));
        var inherited = command.Parents.OfType<Command>().SelectMany(c => c.Options).Where(o => o.Recursive);
        sections.Add(("Other options", command.Options.Where(o => !named.Contains(o.Name)).Concat(inherited).Where(o => !o.Hidden).Select(Row).ToList()));
        int first = sections.SelectMany(s => s.Rows).Max(r => r.Name.Length) + 4;
        int width = Console.IsOutputRedirected ? 120 : Math.Max(80, Console.WindowWidth);
        foreach (var (title, rows) in sections.Where(s => s.Rows.Count > 0))
        {
            w.WriteLine();
            w.WriteLine(title + ":");
            foreach (var (name, text) in rows) WriteRow(w, name, text, first, width);
        }
        w.WriteLine();
    }

    private static (string, string) Row(Option o)
    {
        var names = string.Join(", ", o.Aliases.Order(StringComparer.Ordinal).Append(o.Name));
        if (o.ValueType != typeof(bool) && o is not HelpOption && o.Arity.MaximumNumberOfValues > 0) names += $" <{o.HelpName ?? o.Name.TrimStart('-').ToUpperInvariant()}>";
        return (names, o.Description ?? "");
    }

    // "  NAME    TEXT", TEXT wrapped at word boundaries to width, continuation lines under TEXT.
    private static void WriteRow(TextWriter w, string name, string text, int first, int width)
    {
        int room = Math.Max(30, width - first - 2);
        var line = new System.Text.StringBuilder(("  " + name).PadRight(first + 2));
        if (name.Length + 2 > first) { w.WriteLine(line.ToString().TrimEnd()); line.Clear().Append(new string(' ', first + 2)); }
        int used = 0;
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (used > 0 && used + 1 + word.Length > room) { w.WriteLine(line.ToString()); line.Clear().Append(new string(' ', first + 2)); used = 0; }
            if (used > 0) { line.Append(' '); used++; }
            line.Append(word); used += word.Length;
        }
        w.WriteLine(line.ToString().TrimEnd());
    }
}
