namespace XenProf.Cli;

/// <summary>Process exit codes of the <c>xenoprof</c> command.</summary>
public enum ExitCode
{
    /// <summary>Success.</summary>
    Ok = 0,
    /// <summary>A user mistake or bad input: a one-line message said what and where.</summary>
    UserError = 1,
    /// <summary>A bug or an unexpected failure: "internal error", stack trace only with <c>--verbose</c>.</summary>
    InternalError = 2,
}

/// <summary>
/// A user mistake the CLI itself detects (a bad flag value or combination). Like every
/// <see cref="XenProf.Hypervisor.Binary.XenProfUserException"/>, it is printed without a stack trace and mapped to
/// <see cref="ExitCode.UserError"/>.
/// </summary>
public sealed class UserErrorException(string message) : XenProf.Hypervisor.Binary.XenProfUserException(message);
