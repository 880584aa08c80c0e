using PPSharp.Bench.Suite;
using Xunit.Abstractions;

namespace PPSharp.Tests.Remote;

/// <summary>
/// The soak, short (CI's version of <c>PPSharp.Bench soak</c>, which runs a million jobs; see docs/security.md): a few
/// thousand jobs through two local workers and a real <c>ppserver</c> on loopback, at most a few hundred in flight,
/// with <c>Retries = 0</c>, while three local workers are killed (SIGKILL, by pid) at fixed points of the run. Every
/// job finishes once, with the right value and one callback if it succeeded; every failure is the job one killed
/// worker held (at most one per kill, since a worker runs one job at a time and the jobs it held ahead are
/// rescheduled); and the client's open file descriptors, threads and managed heap after the run are about what they
/// were after the warm-up.
/// </summary>
/// <remarks>
/// Kills come when given numbers of jobs have finished, not on a clock; the victim is a local worker seen running a
/// job (a child of this process, never the node). Runs alone: it measures the test process's own threads and descriptors.
/// </remarks>
[Collection(nameof(RunsAlone))]
public sealed class SoakTests(ITestOutputHelper output) : RemoteTestBase
{
    private const int Jobs = 6_000;

    /// <summary>Generous: the descriptors and threads of a worker or two being replaced, the thread pool's moods, pooled buffers.</summary>
    private const int FileDescriptorGrowth = 16;

    private const int ThreadGrowth = 16;

    private const long ManagedGrowth = 64L * 1024 * 1024;

    [Fact]
    public async Task ThousandsOfJobs_WhileLocalWorkersAreKilled_EachFinishesOnce_FailuresAreTheKilledWorkersJobs_FootprintFlat()
    {
        using TestNode node = await StartNodeAsync(workers: 1);
        var options = new JobServerOptions { Ncpus = 2, Secret = Secret };
        options.PpServers.Add(node.Address);
        var progress = new StringWriter();
        SoakReport report;
        await using (var server = new JobServer(options))
        {
            await node.WaitUntilActiveAsync(server);
            var settings = new SoakSettings
            {
                Jobs = Jobs,
                WarmupJobs = 1_000,
                Window = 200,
                SpinMicroseconds = 200, // long enough that a kill may find a job running, not only one sent and not begun
                KillAtFinished = [2_500, 3_500, 4_500],
                NodePid = node.Pid,
                SlotsPath = Path.Combine(Folder, "slots"),
                Progress = progress,
            };
            report = await Bounds.RunWithin(() => SoakRun.Run(server, settings), Bounds.Heavy);
        }

        output.WriteLine(progress.ToString());
        output.WriteLine(report.ToString());
        Assert.Empty(report.Problems); // each job once, right values, failures only the killed workers' jobs, one each
        Assert.Equal(Jobs, report.Succeeded + report.Failed);
        Assert.Equal(3, report.Killed.Count);
        Assert.InRange(report.Failed, 0, report.Killed.Count);
        Assert.Equal(report.Failed, report.FailedOnKilledWorker + report.FailedBeforeStarting);
        Assert.True(report.ByPlace.GetValueOrDefault(node.Address) > 0, "the node ran no job");
        Assert.True(report.ByPlace.GetValueOrDefault("local") > 0, "no job ran locally");
        Assert.Empty(report.Growth(FileDescriptorGrowth, ThreadGrowth, ManagedGrowth));
    }
}
