using PPSharp.Slurm;

namespace PPSharp.Tests.Slurm;

/// <summary>The batch script a <see cref="SlurmCluster"/> submits, and the options it refuses, without any Slurm.</summary>
public sealed class SlurmJobScriptUnitTests
{
    private static readonly ClusterFiles Files = new("/shared/home/u/.ppsharp/slurm/ppsharp-1a2b3c4d");
    private static readonly byte[] Salt = Convert.FromHexString("00112233445566778899aabbccddeeff");

    [Fact]
    public void Script_CarriesEveryOption_AsSbatchDirectivesAndPpserverArguments()
    {
        var options = new SlurmClusterOptions
        {
            Jobs = 4,
            CpusPerJob = 32,
            Partition = "compute",
            TimeLimit = TimeSpan.FromHours(2),
            MemoryPerJob = "64G",
            ExtraDirectives = ["--account=proj42"],
        };

        string script = JobScript.Build(options, "ppsharp-1a2b3c4d", Files, "ppserver", Salt);
        string[] lines = script.Split('\n');

        Assert.Equal("#!/bin/bash", lines[0]);
        string[] directives = [.. lines.Where(l => l.StartsWith("#SBATCH ", StringComparison.Ordinal)).Select(l => l["#SBATCH ".Length..])];
        Assert.Equal(
            ["--job-name=ppsharp-1a2b3c4d", "--nodes=1", "--ntasks=1", "--cpus-per-task=32", "--partition=compute", "--time=120", "--mem=64G", "--account=proj42"],
            directives);
        string exec = Assert.Single(lines, l => l.StartsWith("exec ", StringComparison.Ordinal));
        Assert.Equal("exec ppserver -p 0 -w 32 --salt 00112233445566778899aabbccddeeff -o '/shared/home/u/.ppsharp/slurm/ppsharp-1a2b3c4d/nodes/'\"$SLURM_JOB_ID\"", exec);
        Assert.Contains("PPSHARP_SECRET=\"$(cat '/shared/home/u/.ppsharp/slurm/ppsharp-1a2b3c4d/secret')\"", lines);
    }

    [Fact]
    public void Script_LeavesUnsetOptionsToSlurm_AndPinsTheInterfaceWhenGiven()
    {
        string script = JobScript.Build(new SlurmClusterOptions { Interface = "10.1.2.3" }, "ppsharp-00000000", Files, "ppserver", Salt);

        Assert.DoesNotContain("--partition", script);
        Assert.DoesNotContain("--time", script);
        Assert.DoesNotContain("--mem", script);
        Assert.Contains("#SBATCH --cpus-per-task=1\n", script);
        Assert.Contains("exec ppserver -p 0 -w 1 --salt 00112233445566778899aabbccddeeff -i '10.1.2.3' -o ", script);
    }

    [Fact]
    public void Quote_KeepsAnyPathOneShellWord()
    {
        Assert.Equal("'/a b/it'\\''s'", JobScript.Quote("/a b/it's"));
    }

    [Theory]
    [InlineData("Jobs")]
    [InlineData("CpusPerJob")]
    [InlineData("CpusPerJobTooMany")]
    [InlineData("Partition")]
    [InlineData("TimeLimit")]
    [InlineData("MemoryPerJob")]
    [InlineData("ExtraDirectives")]
    [InlineData("JobName")]
    [InlineData("Interface")]
    [InlineData("JobEnvironment")]
    [InlineData("StopTimeout")]
    public async Task StartAsync_RefusesABadOption_NamingIt_BeforeAskingSlurm(string option)
    {
        var options = new SlurmClusterOptions { WorkDirectory = Path.Combine(Path.GetTempPath(), "ppsharp-never-created") };
        switch (option)
        {
            case "Jobs": options.Jobs = -1; break;
            case "CpusPerJob": options.CpusPerJob = 0; break;
            case "CpusPerJobTooMany": options.CpusPerJob = SlurmCluster.MaxCpusPerJob + 1; option = "CpusPerJob"; break;
            case "Partition": options.Partition = "compute\n#SBATCH --account=someone-else"; break;
            case "TimeLimit": options.TimeLimit = TimeSpan.Zero; break;
            case "MemoryPerJob": options.MemoryPerJob = "lots"; break;
            case "ExtraDirectives": options.ExtraDirectives = ["--account=a\nrm -rf ~"]; break;
            case "JobName": options.JobName = "my job"; break;
            case "Interface": options.Interface = "not an address"; break;
            case "JobEnvironment": options.JobEnvironment["1BAD NAME"] = "x"; break;
            case "StopTimeout": options.StopTimeout = TimeSpan.Zero; break;
        }

        var error = await Assert.ThrowsAnyAsync<ArgumentException>(() => SlurmCluster.StartAsync(options).WaitAsync(Bounds.Hang));

        Assert.Equal(option, error.ParamName);
        Assert.False(Directory.Exists(options.WorkDirectory));
    }
}
