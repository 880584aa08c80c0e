namespace PPSharp.Tests;

/// <summary>Behaviour 6: restart: true gives every job a fresh worker process.</summary>
public sealed class RestartTests
{
    [Fact]
    public async Task Submit_RunsEveryJobInANewProcess_WhenRestartIsTrue()
    {
        using var server = new JobServer(2, restart: true);

        var jobs = Enumerable.Range(0, 6).Select(_ => server.Submit(Functions.Pid)).ToList();
        int[] pids = await jobs.AllWithin();

        Assert.Equal(pids.Length, pids.Distinct().Count());
        Assert.DoesNotContain(Environment.ProcessId, pids);
    }

    [Fact]
    public async Task Submit_ReturnsCorrectResults_WhenRestartIsTrue()
    {
        using var server = new JobServer(1, restart: true);
        int k = 5;

        var jobs = Enumerable.Range(0, 4).Select(i => server.Submit((int x) => x * k, i)).ToList();

        Assert.Equal(new[] { 0, 5, 10, 15 }, await jobs.AllWithin());
    }

    [Fact]
    public async Task Submit_ReusesWorkerProcess_WhenRestartIsFalse()
    {
        using var server = new JobServer(1);

        var jobs = Enumerable.Range(0, 4).Select(_ => server.Submit(Functions.Pid)).ToList();
        int[] pids = await jobs.AllWithin();

        Assert.Single(pids.Distinct());
    }

    [Fact]
    public async Task Dispose_LeavesNoWorkerBehind_WhenRestartIsTrue()
    {
        int[] pids;
        using (var server = new JobServer(1, restart: true))
        {
            pids = await Enumerable.Range(0, 3).Select(_ => server.Submit(Functions.Pid)).ToList().AllWithin();
        }

        IReadOnlyList<int> alive = await ProcessProbe.WaitForAllToExitAsync(pids);
        alive.ToList().ForEach(ProcessProbe.KillIfAlive);
        Assert.Empty(alive);
    }
}
