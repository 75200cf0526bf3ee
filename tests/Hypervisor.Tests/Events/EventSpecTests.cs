using XenProf.Hypervisor.Binary;
using XenProf.Hypervisor.Events;
using Xunit;

namespace XenProf.Hypervisor.Tests.Events;

public class EventSpecTests
{
    // spec → NAME, COUNT (- = none), UNITMASK, KERNEL, USER.
    private const string Good = """
        CPU_CLOCK:1000000                 | CPU_CLOCK         | 1000000 | 0    | 1 | 1
        CPU_CLK_UNHALTED:100000:0:1:1     | CPU_CLK_UNHALTED  | 100000  | 0    | 1 | 1
        CPU_CLK_UNHALTED:100000:0x1f:0:1  | CPU_CLK_UNHALTED  | 100000  | 31   | 0 | 1
        LLC_MISSES:6000:0X20:1:0          | LLC_MISSES        | 6000    | 32   | 1 | 0
        INST_RETIRED:50000:12             | INST_RETIRED      | 50000   | 12   | 1 | 1
        INST_RETIRED:50000:12:0           | INST_RETIRED      | 50000   | 12   | 0 | 1
        cpu-clock:250000                  | cpu-clock         | 250000  | 0    | 1 | 1
        CPU_CLOCK                         | CPU_CLOCK         | -       | 0    | 1 | 1
        """;

    // spec → fragment the message must contain.
    private const string Bad = """
        :1000                             | NAME is empty
        CPU_CLOCK:                        | COUNT '' is not a positive decimal integer
        CPU_CLOCK:0                       | COUNT '0' is not a positive decimal integer
        CPU_CLOCK:-5                      | COUNT '-5'
        CPU_CLOCK:1e6                     | COUNT '1e6'
        CPU_CLOCK:1000:zz                 | UNITMASK 'zz' is not a hex (0x..) or decimal number
        CPU_CLOCK:1000:0x                 | UNITMASK '0x'
        CPU_CLOCK:1000:0:2                | KERNEL '2' must be 0 or 1
        CPU_CLOCK:1000:0:1:yes            | USER 'yes' must be 0 or 1
        CPU_CLOCK:1000:0:0:0              | KERNEL and USER are both 0
        CPU_CLOCK:1000:0:1:1:9            | 6 fields, at most 5 allowed
        CPU CLOCK:1000                    | contains ' '
        """;

    public static IEnumerable<object[]> Lines(string table) =>
        table.Split('\n').Where(l => l.Trim().Length > 0)
             .Select(l => l.Split('|').Select(c => c.Trim()).ToArray<object>());

    public static IEnumerable<object[]> GoodCases() => Lines(Good);
    public static IEnumerable<object[]> BadCases() => Lines(Bad);

    [Theory]
    [MemberData(nameof(GoodCases))]
    public void Parses(string spec, string name, string count, string mask, string kernel, string user)
    {
        var e = EventSpec.Parse(spec);
        Assert.Equal(name, e.Name);
        Assert.Equal(count == "-" ? null : ulong.Parse(count), e.Count);
        Assert.Equal(uint.Parse(mask), e.UnitMask);
        Assert.Equal(kernel == "1", e.Kernel);
        Assert.Equal(user == "1", e.User);
    }

    [Theory]
    [MemberData(nameof(BadCases))]
    public void Rejects(string spec, string fragment)
    {
        var ex = Assert.Throws<XenProfUserException>(() => EventSpec.Parse(spec));
        Assert.Contains($"event spec '{spec}'", ex.Message);
        Assert.Contains(fragment, ex.Message);
        Assert.Contains("NAME:COUNT[:UNITMASK[:KERNEL[:USER]]]", ex.Message);
    }

    [Fact]
    public void Canonical_form_round_trips()
    {
        var e = EventSpec.Parse("LLC_MISSES:6000:0x20:1:0");
        Assert.Equal("LLC_MISSES:6000:0x20:1:0", e.ToString());
        Assert.Equal(e, EventSpec.Parse(e.ToString()));
    }
}
