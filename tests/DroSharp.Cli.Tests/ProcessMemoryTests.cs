using DroSharp.Cli.Bench;

namespace DroSharp.Cli.Tests;

public class ProcessMemoryTests
{
    [Theory]
    [InlineData("VmHWM:\t    2080 kB", 2080)]
    [InlineData("VmHWM:\t10485760 kB", 10485760)] // 8 digits: the kernel's padding leaves no blank after the tab
    [InlineData("VmHWM:   123456789 kB", 123456789)]
    public void ReadsThePeakFromAStatusLine(string line, double kilobytes) =>
        Assert.Equal(kilobytes, ProcessMemory.ParseStatusKilobytes(line, "VmHWM:"));

    [Fact]
    public void OtherLinesAreNotRead() => Assert.Null(ProcessMemory.ParseStatusKilobytes("VmRSS:\t    2080 kB", "VmHWM:"));

    [Fact]
    public void ThisProcessHasAPeak() => Assert.True(ProcessMemory.PeakRssMegabytes() > 1);
}
