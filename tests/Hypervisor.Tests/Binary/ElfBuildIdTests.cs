using System.Diagnostics;
using XenProf.Hypervisor.Binary.Elf;
using Xunit;

namespace XenProf.Hypervisor.Tests.Binary;

public sealed class ElfBuildIdTests
{
    [Theory]
    [InlineData("/usr/lib/x86_64-linux-gnu/libc.so.6")]
    [InlineData("/bin/ls")]
    public void EqualsReadelf(string path)
    {
        if (!File.Exists(path)) return;
        var psi = new ProcessStartInfo("readelf", ["-n", path]) { RedirectStandardOutput = true };
        string text;
        try { using var p = Process.Start(psi)!; text = p.StandardOutput.ReadToEnd(); p.WaitForExit(); }
        catch (System.ComponentModel.Win32Exception) { return; } // binutils missing: CI installs it
        var line = text.Split('\n').FirstOrDefault(l => l.Contains("Build ID:"));
        Assert.NotNull(line);
        Assert.Equal(line!.Split("Build ID:")[1].Trim(), ElfFile.TryReadBuildId(path));
    }

    [Fact]
    public void NonElfAndMissingFilesGiveNull()
    {
        var f = Path.GetTempFileName();
        File.WriteAllText(f, "#!/bin/sh\necho not elf, long enough to fill an ELF header's sixty-four bytes......\n");
        Assert.Null(ElfFile.TryReadBuildId(f));
        File.Delete(f);
        Assert.Null(ElfFile.TryReadBuildId("/nonexistent/xenprof"));
    }
}
