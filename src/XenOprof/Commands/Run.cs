using System.CommandLine;
using XenProf.Hypervisor.Binary;

namespace XenProf.Cli.Commands;

/// <summary>The one place that maps exceptions to exit codes and messages for every verb.</summary>
internal static class Run
{
    /// <summary>Runs <paramref name="body"/>; anticipated failures print one line to stderr and return 1, others print "internal error" and return 2.</summary>
    public static int Guarded(string verb, bool verbose, Func<CancellationToken, int> body)
    {
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
        Console.CancelKeyPress += onCancel;
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; cts.Cancel(); });
        try
        {
            return body(cts.Token);
        }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Error.WriteLine($"xenoprof {verb}: {e.Message}");
            return (int)ExitCode.UserError;
        }
        catch (Exception e) when (Sampler.Store.NoSpace.Is(e))
        {
            // A full file system is the user's to fix, wherever it was met (a report's output file, a copied symbol table…).
            var io = e as IOException ?? e.InnerException as IOException;
            var dir = io != null ? Sampler.Store.NoSpace.DirectoryOf(io) : null;
            Console.Error.WriteLine($"xenoprof {verb}: no space left on {dir ?? "the device"}: {e.Message}");
            return (int)ExitCode.UserError;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"xenoprof {verb}: internal error: {e.Message}");
            if (verbose) Console.Error.WriteLine(e);
            else Console.Error.WriteLine("(run with --verbose for the stack trace)");
            return (int)ExitCode.InternalError;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>
    /// Every anticipated failure derives from <see cref="XenProfUserException"/>. The one exception to that rule is a
    /// file or directory that the operating system refused to open (missing, or no permission): the BCL throws these
    /// itself wherever a path the user named is opened, and their messages name the path.
    /// </summary>
    private static bool IsUserError(Exception e) => e is XenProfUserException
        or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException;

    /// <summary><c>--verbose</c>: print stack traces of internal errors.</summary>
    public static readonly Option<bool> Verbose = new("--verbose", "-V") { Description = "Print the stack trace of internal errors" };
}
