namespace XenProf.Hypervisor.Binary;

/// <summary>
/// The base of every anticipated failure whose message is written for the user: malformed input
/// (<see cref="MalformedDataException"/>), a bad option value or event name, a missing file, a session or store
/// that cannot be used, an event this machine cannot count, a hypervisor that refuses or is absent. The CLI prints
/// the message as one line, without a stack trace, and exits with code 1. Any other exception is a bug and must not
/// use this type. It lives in the lowest project so that every stage can throw it.
/// </summary>
public class XenProfUserException : Exception
{
    /// <summary>Creates the exception with a message for the user (what happened, where, and a hint when there is one).</summary>
    public XenProfUserException(string message) : base(message) { }

    /// <summary>Creates the exception with a message for the user and the failure that caused it.</summary>
    public XenProfUserException(string message, Exception? innerException) : base(message, innerException) { }
}
