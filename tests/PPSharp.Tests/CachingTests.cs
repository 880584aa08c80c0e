namespace PPSharp.Tests;

/// <summary>
/// Behaviour 8: a function's description is cached in the worker. Only correctness is checked here:
/// the cache must never confuse two functions, or two captures/targets of one function.
/// </summary>
public sealed class CachingTests
{
    [Fact]
    public async Task Submit_ReturnsCorrectResults_WhenManyJobsRunOneFunction()
    {
        using var server = new JobServer(2);

        var jobs = Enumerable.Range(0, 500).Select(i => server.Submit(Functions.Square, i)).ToList();

        Assert.Equal(Enumerable.Range(0, 500).Select(i => i * i).ToArray(), await jobs.AllWithin());
    }

    [Fact]
    public async Task Submit_UsesEachJobsOwnCapturedValues_WhenOneClosureIsSubmittedManyTimes()
    {
        using var server = new JobServer(2);
        var jobs = new List<Job<int>>();

        for (int i = 0; i < 200; i++)
        {
            int captured = i * 3;
            jobs.Add(server.Submit((int x) => x + captured, 1));
        }

        Assert.Equal(Enumerable.Range(0, 200).Select(i => i * 3 + 1).ToArray(), await jobs.AllWithin());
    }

    [Fact]
    public async Task Submit_UsesEachJobsOwnTarget_WhenOneInstanceMethodIsBoundToManyObjects()
    {
        using var server = new JobServer(2);

        var jobs = Enumerable.Range(1, 100).Select(f => server.Submit(new Multiplier(f).Times, 2)).ToList();

        Assert.Equal(Enumerable.Range(1, 100).Select(f => f * 2).ToArray(), await jobs.AllWithin());
    }

    [Fact]
    public async Task Submit_KeepsFunctionsApart_WhenDifferentFunctionsAreInterleaved()
    {
        using var server = new JobServer(2);
        var squares = new List<Job<int>>();
        var negations = new List<Job<int>>();
        var texts = new List<Job<string>>();

        for (int i = 0; i < 100; i++)
        {
            squares.Add(server.Submit(Functions.Square, i));
            negations.Add(server.Submit((int x) => -x, i));
            texts.Add(server.Submit((int x) => $"#{x}", i));
        }

        Assert.Equal(Enumerable.Range(0, 100).Select(i => i * i).ToArray(), await squares.AllWithin());
        Assert.Equal(Enumerable.Range(0, 100).Select(i => -i).ToArray(), await negations.AllWithin());
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"#{i}").ToArray(), await texts.AllWithin());
    }

    [Fact]
    public async Task Submit_KeepsGenericInstantiationsApart_WhenOneGenericMethodIsUsedWithSeveralTypes()
    {
        using var server = new JobServer(1);

        Job<int> i = server.Submit(Functions.Echo<int>, 5);
        Job<string> s = server.Submit(Functions.Echo<string>, "five");
        Job<double> d = server.Submit(Functions.Echo<double>, 5.5);
        Job<int> i2 = server.Submit(Functions.Echo<int>, 6);

        Assert.Equal(5, await i.Within());
        Assert.Equal("five", await s.Within());
        Assert.Equal(5.5, await d.Within());
        Assert.Equal(6, await i2.Within());
    }

    [Fact]
    public async Task Submit_ResendsFunctionToNewWorker_WhenAWorkerWasReplacedAfterACrash()
    {
        using var server = new JobServer(1);
        Assert.Equal(4, await server.Submit(Functions.Square, 2).Within());

        await Assert.ThrowsAsync<WorkerCrashedException>(() => server.Submit(WorkerCrashTests.ExitWithCode3).Within());

        Assert.Equal(9, await server.Submit(Functions.Square, 3).Within());
    }

    [Fact]
    public async Task Submit_ReturnsCorrectResults_WhenOneFunctionRunsOnFreshWorkersEachTime()
    {
        using var server = new JobServer(2, restart: true);

        var jobs = Enumerable.Range(0, 6).Select(i => server.Submit(Functions.Square, i)).ToList();

        Assert.Equal(new[] { 0, 1, 4, 9, 16, 25 }, await jobs.AllWithin());
    }
}
