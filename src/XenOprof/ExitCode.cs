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
/// An anticipated failure with a message written for the user (bad flag, missing file, unusable session).
/// Printed without a stack trace and mapped to <see cref="ExitCode.UserError"/>. Any other exception is
/// unanticipated and must not use this type.
/// </summary>
public sealed class UserErrorException(string message) : Exception(message);
