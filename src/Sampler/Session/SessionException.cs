namespace XenProf.Sampler.Session;

/// <summary>A session cannot do what was asked (daemon already running, not running, directory not writable…). The message is for the user.</summary>
public sealed class SessionException(string message) : XenProf.Hypervisor.Binary.XenProfUserException(message);
