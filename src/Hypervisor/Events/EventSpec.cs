using System.Globalization;
using XenProf.Hypervisor.Binary;

namespace XenProf.Hypervisor.Events;

/// <summary>
/// An event selection in oprofile's spelling, <c>NAME:COUNT[:UNITMASK[:KERNEL[:USER]]]</c>
/// (opcontrol --event; also xenoprof's). COUNT is the sample period in the event's unit (a positive decimal
/// integer); UNITMASK is hex (<c>0x..</c>) or decimal, default 0; KERNEL and USER are 0 or 1, default 1.
/// <c>NAME</c> alone is accepted and leaves <see cref="Count"/> null (the catalogue default is used).
/// The name is not checked against the catalogue here; see <see cref="EventCatalogue.Resolve"/>.
/// </summary>
/// <param name="Name">Event name as written.</param>
/// <param name="Count">Sample period, or null for the catalogue default.</param>
/// <param name="UnitMask">Unit mask (0 if not given).</param>
/// <param name="Kernel">Count in kernel mode.</param>
/// <param name="User">Count in user mode.</param>
public sealed record EventSpec(string Name, ulong? Count, uint UnitMask = 0, bool Kernel = true, bool User = true)
{
    /// <summary>Parses <paramref name="spec"/>.</summary>
    /// <exception cref="XenProfUserException">The message names the spec and what was expected, e.g.
    /// <c>event spec 'CPU_CLOCK:abc': COUNT 'abc' is not a positive decimal integer</c>.</exception>
    public static EventSpec Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var f = spec.Split(':');
        string Fail(string what) => throw new XenProfUserException($"event spec '{spec}': {what} (expected NAME:COUNT[:UNITMASK[:KERNEL[:USER]]])");
        if (f.Length > 5) Fail($"{f.Length} fields, at most 5 allowed");
        string name = f[0].Trim();
        if (name.Length == 0) Fail("NAME is empty");
        foreach (char ch in name)
            if (!(char.IsAsciiLetterOrDigit(ch) || ch is '_' or '-' or '.'))
                Fail($"NAME '{name}' contains '{ch}'; only letters, digits, '_', '-' and '.' are allowed");

        ulong? count = null;
        if (f.Length > 1)
        {
            if (!ulong.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out ulong c) || c == 0)
                Fail($"COUNT '{f[1]}' is not a positive decimal integer");
            count = c;
        }
        uint mask = 0;
        if (f.Length > 2)
        {
            string m = f[2];
            bool ok = m.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                ? uint.TryParse(m.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out mask) && m.Length > 2
                : uint.TryParse(m, NumberStyles.None, CultureInfo.InvariantCulture, out mask);
            if (!ok) Fail($"UNITMASK '{m}' is not a hex (0x..) or decimal number");
        }
        bool Flag(int i, string what)
        {
            if (f.Length <= i) return true;
            if (f[i] == "1") return true;
            if (f[i] == "0") return false;
            Fail($"{what} '{f[i]}' must be 0 or 1");
            return false;
        }
        bool kernel = Flag(3, "KERNEL"), user = Flag(4, "USER");
        if (!kernel && !user) Fail("KERNEL and USER are both 0, so nothing would be counted");
        return new EventSpec(name, count, mask, kernel, user);
    }

    /// <summary>The spec in canonical form <c>NAME:COUNT:UNITMASK:KERNEL:USER</c> (COUNT omitted if null).</summary>
    public override string ToString() =>
        Count is null ? Name : $"{Name}:{Count}:{(UnitMask == 0 ? "0" : "0x" + UnitMask.ToString("x", CultureInfo.InvariantCulture))}:{(Kernel ? 1 : 0)}:{(User ? 1 : 0)}";
}
