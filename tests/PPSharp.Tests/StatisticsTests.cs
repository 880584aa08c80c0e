using System.Text.RegularExpressions;

namespace PPSharp.Tests;

/// <summary>Behaviour 11: per-node statistics, and PrintStats printing ppft's table column for column.</summary>
public sealed class StatisticsTests
{
    private static async Task<JobServer> ServerWithFinishedJobsAsync(int ncpus, int jobs)
    {
        var server = new JobServer(ncpus);
        try
        {
            await Enumerable.Range(0, jobs).Select(i => server.Submit(Functions.SumPrimes, 1000 + i)).ToList().AllWithin();
            await Bounds.RunWithin(() => server.Wait());
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    [Fact]
    public async Task GetStats_CountsFinishedJobsForLocalNode_WhenJobsHaveRun()
    {
        using JobServer server = await ServerWithFinishedJobsAsync(2, 7);

        IReadOnlyDictionary<string, NodeStats> stats = server.GetStats();

        NodeStats local = stats["local"];
        Assert.Equal(7, local.JobCount);
        Assert.Equal(2, local.Ncpus);
        Assert.True(local.JobTime > TimeSpan.Zero);
    }

    [Fact]
    public void GetStats_ReportsZeroJobs_WhenNothingRan()
    {
        using var server = new JobServer(1);

        NodeStats local = server.GetStats()["local"];

        Assert.Equal(0, local.JobCount);
        Assert.Equal(TimeSpan.Zero, local.JobTime);
    }

    [Fact]
    public async Task PrintStats_PrintsPpftTable_WhenJobsHaveRun()
    {
        using JobServer server = await ServerWithFinishedJobsAsync(2, 3);
        using var writer = new StringWriter();

        server.PrintStats(writer);

        string[] lines = writer.ToString().Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToArray();
        int title = Array.IndexOf(lines, "Job execution statistics:");
        Assert.True(title >= 0, writer.ToString());
        Assert.Equal(" job count | % of all jobs | job time sum | time per job | job server", lines[title + 1]);
        string row = lines[title + 2];
        Assert.Matches(@"^ +3 \| +100\.00 \| +\d+\.\d{4} \| +\d+\.\d{6} \| local$", row);
        // Column for column: the row's separators sit exactly under the header's.
        Assert.Equal(Separators(lines[title + 1]), Separators(row));
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^Time elapsed since server creation \d+(\.\d+)?(E[-+]?\d+)?$"));
        Assert.Equal("0 active tasks, 2 cores", lines[^1]);
    }

    [Fact]
    public async Task PrintStats_ReportsAsActiveTasksOnlyTheJobsRunningOnLocalWorkers_AsPpftDoes()
    {
        using var gate = new JobGate();
        using var server = new JobServer(1);
        var jobs = Enumerable.Range(0, 3).Select(_ => server.Submit(JobGate.ArriveAndWait, gate.Port)).ToList();
        await gate.NextArrivalAsync();
        using var writer = new StringWriter();

        server.PrintStats(writer);
        gate.Open();
        await jobs.AllWithin();

        Assert.Contains("1 active tasks, 1 cores", writer.ToString()); // one running, two queued
    }

    [Fact]
    public async Task PrintStats_WritesToConsole_WhenCalledWithoutWriter()
    {
        using JobServer server = await ServerWithFinishedJobsAsync(1, 1);

        Exception? error = Record.Exception(() => server.PrintStats());

        Assert.Null(error);
    }

    private static int[] Separators(string line) =>
        line.Select((c, i) => (c, i)).Where(p => p.c == '|').Select(p => p.i).ToArray();
}
