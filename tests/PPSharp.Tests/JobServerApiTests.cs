namespace PPSharp.Tests;

/// <summary>The pinned public API around jobs: templates, groups, ids, nodes, argument checks.</summary>
public sealed class JobServerApiTests
{
    [Fact]
    public async Task CreateTemplate_SubmitsJobsOfTheTemplateFunction_WhenGivenArguments()
    {
        using var server = new JobServer(2);
        var sumPrimes = server.CreateTemplate<int, long>(Functions.SumPrimes);

        Job<long> small = sumPrimes.Submit(100);
        Job<long> large = sumPrimes.Submit(100700);

        Assert.Equal(1060L, await small.Within());
        Assert.Equal(460217613L, await large.Within());
    }

    [Fact]
    public async Task Job_HasGroupAndLocalNode_WhenSubmittedWithGroup()
    {
        using var server = new JobServer(1);

        Job<int> grouped = server.Submit(Functions.Square, 3, group: "squares");
        Job<int> plain = server.Submit(Functions.Square, 4);
        await grouped.Within();
        await plain.Within();

        Assert.Equal("squares", grouped.Group);
        Assert.Equal("default", plain.Group);
        Assert.Equal("local", grouped.Node);
        Assert.Equal("local", plain.Node);
    }

    [Fact]
    public async Task Job_IsCompletedAndWaitReturns_WhenResultIsReady()
    {
        using var server = new JobServer(1);
        Job<int> job = server.Submit(Functions.Square, 11);

        await Bounds.RunWithin(job.Wait);

        Assert.True(job.IsCompleted);
        Assert.Equal(121, job.Result);
        Assert.Equal(121, await job);
    }

    [Fact]
    public async Task Result_BlocksUntilDone_WhenReadBeforeJobFinished()
    {
        using var server = new JobServer(1);
        Job<long> job = server.Submit(Functions.SumPrimes, 100700);

        long result = await Bounds.RunWithin(() => job.Result);

        Assert.Equal(460217613L, result);
    }

    [Fact]
    public async Task WaitAsync_CompletesWhenGroupIsDone_WhileOtherGroupStillRuns()
    {
        using var gate = new JobGate();
        using var server = new JobServer(2);
        Job<int> other = server.Submit(JobGate.ArriveAndWait, gate.Port, group: "other");
        await gate.NextArrivalAsync();
        var g = Enumerable.Range(0, 5).Select(i => server.Submit(Functions.Square, i, group: "g")).ToList();

        await server.WaitAsync("g").WaitAsync(Bounds.Hang);

        Assert.All(g, j => Assert.True(j.IsCompleted));
        Assert.False(other.IsCompleted);
        gate.Open();
        await server.WaitAsync().WaitAsync(Bounds.Hang);
        Assert.True(other.IsCompleted);
    }

    [Fact]
    public async Task Wait_ReturnsAtOnce_WhenGroupHasNoJobs()
    {
        using var server = new JobServer(1);

        await Bounds.RunWithin(() => server.Wait("nothing-here"));
        await server.WaitAsync("nothing-here").WaitAsync(Bounds.Hang);
    }

    [Fact]
    public void Constructor_ThrowsArgumentOutOfRange_WhenNcpusIsNegative()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new JobServer(-1));
    }

    [Fact]
    public void Submit_ThrowsArgumentNull_WhenFunctionIsNull()
    {
        using var server = new JobServer(1);

        Assert.Throws<ArgumentNullException>(() => server.Submit((Func<int>)null!));
        Assert.Throws<ArgumentNullException>(() => server.Submit((Func<int, int>)null!, 1));
        Assert.Throws<ArgumentNullException>(() => server.Submit((Action)null!));
        Assert.Throws<ArgumentNullException>(() => server.CreateTemplate((Func<int, long>)null!));
        Assert.Throws<ArgumentNullException>(() => server.Submit(Functions.Square, 1, group: null!));
    }

    [Fact]
    public async Task DetectNcpus_ReturnsProcessorCount_AndDefaultServerUsesIt()
    {
        int detected = JobServer.DetectNcpus();
        Assert.True(detected >= 1);

        using var server = new JobServer();

        Assert.Equal(detected, server.Ncpus);
        Assert.Equal(detected, server.GetActiveNodes()["local"]);
        Assert.Equal(1, await server.Submit(Functions.Square, 1).Within());
    }

    [Fact]
    public async Task JobServer_WithZeroNcpus_CanBeCreatedAndGrown()
    {
        using var server = new JobServer(0);
        Job<int> job = server.Submit(Functions.Square, 5);
        Assert.False(job.IsCompleted);

        server.Ncpus = 1;

        Assert.Equal(25, await job.Within());
    }

    [Fact]
    public void GetActiveNodes_HasOnlyLocal_WhenNoRemoteServersAreGiven()
    {
        using var server = new JobServer(2);

        IReadOnlyDictionary<string, int> nodes = server.GetActiveNodes();

        Assert.Equal(["local"], nodes.Keys);
        Assert.Equal(2, nodes["local"]);
    }

    [Fact]
    public async Task WaitAsync_ThrowsOperationCanceled_WhenTokenIsCanceledBeforeJobsFinish()
    {
        using var gate = new JobGate();
        using var server = new JobServer(1);
        _ = server.Submit(JobGate.ArriveAndWait, gate.Port, group: "slow");
        await gate.NextArrivalAsync();
        using var cancel = new CancellationTokenSource();

        Task waiting = server.WaitAsync("slow", cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Bounds.Hang));
        gate.Open();
        await server.WaitAsync("slow").WaitAsync(Bounds.Hang);
    }

    [Fact]
    public async Task Submit_WithCallbackAndGroup_ReportsBothOnTheJob()
    {
        using var server = new JobServer(1);
        long seen = 0;

        Job<long> job = server.Submit(Functions.SumPrimes, 100, callback: v => Interlocked.Exchange(ref seen, v), group: "primes");
        await server.WaitAsync("primes").WaitAsync(Bounds.Hang);

        Assert.Equal("primes", job.Group);
        Assert.Equal(1060L, Interlocked.Read(ref seen));
        Assert.Equal(1060L, job.Result);
    }

    [Fact]
    public async Task CreateTemplate_AppliesCallbackAndGroup_ToEveryJob()
    {
        using var server = new JobServer(2);
        var results = new System.Collections.Concurrent.ConcurrentBag<int>();
        var square = server.CreateTemplate<int, int>(Functions.Square, callback: results.Add, group: "tpl");

        var jobs = Enumerable.Range(1, 4).Select(square.Submit).ToList();
        await server.WaitAsync("tpl").WaitAsync(Bounds.Hang);

        Assert.All(jobs, j => Assert.Equal("tpl", j.Group));
        Assert.Equal(new[] { 1, 4, 9, 16 }, results.Order());
    }
}
