namespace PPSharp.Tests;

/// <summary>Behaviour 7: Ncpus can grow and shrink at run time; with 0 jobs wait; no job is lost.</summary>
public sealed class NcpusTests
{
    [Fact]
    public void Ncpus_ReportsConstructorValue_WhenServerIsCreated()
    {
        using var server = new JobServer(2);

        Assert.Equal(2, server.Ncpus);
        Assert.Equal(2, server.GetActiveNodes()["local"]);
    }

    [Fact]
    public async Task Ncpus_StartsWorkersThatRunJobsInParallel_WhenGrownFromOneToThree()
    {
        using var gate = new JobGate();
        using var server = new JobServer(1);

        server.Ncpus = 3;

        Assert.Equal(3, server.Ncpus);
        Assert.Equal(3, server.GetActiveNodes()["local"]);
        var jobs = Enumerable.Range(0, 3).Select(_ => server.Submit(JobGate.ArriveAndWait, gate.Port)).ToList();
        // All three block at the gate until released: two of them arriving at once means two workers.
        int first = await gate.NextArrivalAsync();
        int second = await gate.NextArrivalAsync();
        gate.Open();
        int[] pids = await jobs.AllWithin();

        Assert.NotEqual(first, second);
        Assert.True(pids.Distinct().Count() >= 2);
    }

    [Fact]
    public async Task Ncpus_KeepsJobsQueued_WhenZeroUntilSetBackToOne()
    {
        using var server = new JobServer(1);
        Assert.Equal(1, await server.Submit(Functions.Square, 1).Within());

        server.Ncpus = 0;
        Assert.Equal(0, server.GetActiveNodes()["local"]);
        var jobs = Enumerable.Range(0, 5).Select(i => server.Submit(Functions.Square, i)).ToList();

        Assert.All(jobs, j => Assert.False(j.IsCompleted));

        server.Ncpus = 1;
        Assert.Equal(new[] { 0, 1, 4, 9, 16 }, await jobs.AllWithin());
    }

    [Fact]
    public async Task Ncpus_LetsRunningJobFinishAndHoldsQueuedJobs_WhenShrunkToZeroMidJob()
    {
        using var gate = new JobGate();
        using var server = new JobServer(1);
        Job<int> running = server.Submit(JobGate.ArriveAndWait, gate.Port);
        int pid = await gate.NextArrivalAsync();

        server.Ncpus = 0;
        var queued = Enumerable.Range(0, 4).Select(i => server.Submit(Functions.Square, i)).ToList();
        gate.Open();

        Assert.Equal(pid, await running.Within());
        Assert.All(queued, j => Assert.False(j.IsCompleted));
        server.Ncpus = 1;
        Assert.Equal(new[] { 0, 1, 4, 9 }, await queued.AllWithin());
    }

    [Fact]
    public async Task Ncpus_RetiresWorkersAfterTheirRunningJobs_WhenShrunkFromThreeToOne()
    {
        using var gate = new JobGate();
        using var server = new JobServer(3);
        var running = Enumerable.Range(0, 3).Select(_ => server.Submit(JobGate.ArriveAndWait, gate.Port)).ToList();
        int[] workerPids = [await gate.NextArrivalAsync(), await gate.NextArrivalAsync(), await gate.NextArrivalAsync()];
        Assert.Equal(3, workerPids.Distinct().Count());

        server.Ncpus = 1;
        Assert.Equal(1, server.GetActiveNodes()["local"]);
        var queued = Enumerable.Range(0, 10).Select(i => server.Submit(Functions.Square, i)).ToList();
        gate.Open();

        Assert.Equal(workerPids.Order(), (await running.AllWithin()).Order());
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i * i).ToArray(), await queued.AllWithin());
        // Two of the three workers retire once their job is done.
        var watch = Stopwatch.StartNew();
        while (workerPids.Count(ProcessProbe.IsAlive) > 1 && watch.Elapsed < Bounds.Hang)
        {
            await Task.Delay(50);
        }

        Assert.True(workerPids.Count(ProcessProbe.IsAlive) <= 1);
        int[] laterPids = await Enumerable.Range(0, 4).Select(_ => server.Submit(Functions.Pid)).ToList().AllWithin();
        Assert.Single(laterPids.Distinct());
    }

    [Fact]
    public async Task Ncpus_LosesNoJob_WhenChangedRepeatedlyWhileJobsRun()
    {
        using var server = new JobServer(1);
        var jobs = new List<Job<int>>();
        int[] sizes = [3, 0, 2, 1, 0, 2];
        for (int round = 0; round < sizes.Length; round++)
        {
            for (int i = 0; i < 20; i++)
            {
                jobs.Add(server.Submit(Functions.Square, round * 20 + i));
            }

            server.Ncpus = sizes[round];
        }

        Assert.Equal(2, server.GetActiveNodes()["local"]);
        Assert.Equal(Enumerable.Range(0, jobs.Count).Select(i => i * i).ToArray(), await jobs.AllWithin());
    }

    [Fact]
    public void Ncpus_ThrowsArgumentOutOfRange_WhenSetNegative()
    {
        using var server = new JobServer(1);

        Assert.Throws<ArgumentOutOfRangeException>(() => server.Ncpus = -1);
        Assert.Equal(1, server.Ncpus);
    }
}
