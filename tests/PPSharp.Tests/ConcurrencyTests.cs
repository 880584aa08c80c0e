namespace PPSharp.Tests;

/// <summary>Behaviours 9 and 13: scheduling (FIFO, load balancing) and Submit from many threads at once.</summary>
public sealed class ConcurrencyTests
{
    private static int workerCounter;

    /// <summary>Runs in the worker: a per-worker-process ticket counter.</summary>
    public static int NextTicket() => Interlocked.Increment(ref workerCounter);

    [Fact]
    public async Task Submit_GivesCorrectResultsAndUniqueIds_WhenCalledFromManyThreadsAtOnce()
    {
        using var server = new JobServer(2);
        var jobs = new Job<int>[1000];

        await Bounds.RunWithin(() => Parallel.For(0, jobs.Length, new ParallelOptions { MaxDegreeOfParallelism = 16 }, i =>
        {
            jobs[i] = server.Submit(Functions.Square, i);
        }));

        Assert.Equal(Enumerable.Range(0, 1000).Select(i => i * i).ToArray(), await jobs.AllWithin());
        Assert.Equal(jobs.Length, jobs.Select(j => j.Id).Distinct().Count());
    }

    [Fact]
    public async Task Submit_GivesCorrectResults_WhenThreadsSubmitDifferentClosuresConcurrently()
    {
        using var server = new JobServer(2);
        var jobs = new Job<string>[400];

        await Bounds.RunWithin(() => Parallel.For(0, jobs.Length, i =>
        {
            string tag = $"t{i % 7}";
            jobs[i] = i % 2 == 0
                ? server.Submit((int x) => $"{tag}:{x}", i)
                : server.Submit((int x, string t) => $"{t}:{x}", i, tag);
        }));

        string[] results = await jobs.AllWithin();
        for (int i = 0; i < results.Length; i++)
        {
            Assert.Equal($"t{i % 7}:{i}", results[i]);
        }
    }

    [Fact]
    public async Task Submit_RunsJobsInSubmissionOrder_WhenThereIsOneWorker()
    {
        using var server = new JobServer(1);

        var jobs = Enumerable.Range(0, 50).Select(_ => server.Submit(NextTicket)).ToList();
        int[] tickets = await jobs.AllWithin();

        for (int i = 1; i < tickets.Length; i++)
        {
            Assert.True(tickets[i] > tickets[i - 1], $"job {i} ran before job {i - 1}: {string.Join(",", tickets)}");
        }
    }

    [Fact]
    public async Task Submit_SendsNextJobToTheFreeWorker_WhenOtherWorkerIsBusy()
    {
        using var gate = new JobGate();
        using var server = new JobServer(2);
        Job<int> blocked = server.Submit(JobGate.ArriveAndWait, gate.Port);
        int busyPid = await gate.NextArrivalAsync();

        // With one worker blocked, every following job must be served by the other one.
        var jobs = Enumerable.Range(0, 10).Select(_ => server.Submit(Functions.Pid)).ToList();
        int[] pids = await jobs.AllWithin();
        gate.Open();

        Assert.DoesNotContain(busyPid, pids);
        Assert.Equal(busyPid, await blocked.Within());
    }

    [Fact]
    public async Task Job_Ids_AreUnique_AcrossGroupsAndKinds()
    {
        using var server = new JobServer(1);

        var jobs = new List<Job>
        {
            server.Submit(Functions.Square, 1),
            server.Submit(Functions.Square, 2, group: "a"),
            server.Submit(() => { }),
            server.Submit(Functions.Echo<string>, "x", group: "b"),
            server.Submit(Functions.Pid),
        };
        await Task.WhenAll(jobs.Select(j => j.AsTask())).WaitAsync(Bounds.Hang);

        Assert.Equal(jobs.Count, jobs.Select(j => j.Id).Distinct().Count());
    }
}

/// <summary>Tests that measure process-wide facts and so must not share the process with other running tests.</summary>
[CollectionDefinition(nameof(SerialTestGroup), DisableParallelization = true)]
public sealed class SerialTestGroup;

[Collection(nameof(SerialTestGroup))]
public sealed class QueueCostTests
{
    [Fact]
    public async Task Submit_UsesNoThreadPerQueuedJob_WhenThousandsOfJobsWait()
    {
        using var gate = new JobGate();
        using var server = new JobServer(1);
        Job<int> blocker = server.Submit(JobGate.ArriveAndWait, gate.Port);
        await gate.NextArrivalAsync();
        int threadsBefore = Process.GetCurrentProcess().Threads.Count;

        var queued = Enumerable.Range(0, 3000).Select(i => server.Submit(Functions.Square, i)).ToList();
        int threadsWhileQueued = Process.GetCurrentProcess().Threads.Count;
        gate.Open();

        Assert.True(threadsWhileQueued - threadsBefore < 100, $"threads grew from {threadsBefore} to {threadsWhileQueued} for 3000 queued jobs");
        await blocker.Within();
        Assert.Equal(Enumerable.Range(0, 3000).Select(i => i * i).ToArray(), await queued.AllWithin());
    }
}

/// <summary>Several job servers in one process keep their jobs apart.</summary>
public sealed class MultipleServerTests
{
    [Fact]
    public async Task Submit_KeepsJobsApart_WhenTwoServersRunAtOnce()
    {
        using var first = new JobServer(1);
        using var second = new JobServer(1);

        var a = Enumerable.Range(0, 50).Select(i => first.Submit(Functions.Square, i)).ToList();
        var b = Enumerable.Range(0, 50).Select(i => second.Submit((int x) => -x, i)).ToList();

        Assert.Equal(Enumerable.Range(0, 50).Select(i => i * i).ToArray(), await a.AllWithin());
        Assert.Equal(Enumerable.Range(0, 50).Select(i => -i).ToArray(), await b.AllWithin());
        Assert.NotEqual(await first.Submit(Functions.Pid).Within(), await second.Submit(Functions.Pid).Within());
        Assert.Equal(51, first.GetStats()["local"].JobCount);
    }
}
