using System.Globalization;

namespace XenProf.Sampler.Store;

/// <summary>
/// A test hook that holds a commit at its most fragile point, so crash tests can kill the process there: after the
/// sample log's new records are in the file and the totals that count them are in the open transaction, before the
/// transaction commits. Inert unless the environment variable <see cref="Variable"/> names a file when the process
/// starts; then a commit that writes samples, while that file exists, writes <c>FILE.paused</c> (holding the pid)
/// and waits up to <see cref="Hold"/> before it goes on. Nothing else reads the variable.
/// </summary>
internal static class CommitPause
{
    /// <summary>The environment variable naming the trigger file.</summary>
    public const string Variable = "XENPROF_TEST_PAUSE_BEFORE_COMMIT";

    /// <summary>How long a triggered commit waits for the kill before it goes on.</summary>
    public static readonly TimeSpan Hold = TimeSpan.FromSeconds(60);

    private static readonly string? Trigger = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } v ? v : null;

    /// <summary>Called by <see cref="SessionStore.Commit"/> between writing a batch of samples and committing it.</summary>
    public static void BeforeCommit()
    {
        if (Trigger == null || !File.Exists(Trigger)) return;
        // Written whole, then renamed: a test that sees the file reads the whole pid.
        File.WriteAllText(Trigger + ".paused.tmp", Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        File.Move(Trigger + ".paused.tmp", Trigger + ".paused", overwrite: true);
        Thread.Sleep(Hold);
    }
}
