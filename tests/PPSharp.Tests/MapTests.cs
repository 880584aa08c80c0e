using PPSharp.Mapping;

namespace PPSharp.Tests;

/// <summary>Map, unordered map, async map, results as they finish, and the progress bar, with real workers.</summary>
public sealed class MapTests
{
    public static int FailOnSeven(int x) => x == 7 ? throw new InvalidOperationException("seven is not allowed") : x * 10;

    public static int SpinThenEcho(int milliseconds)
    {
        var watch = Stopwatch.StartNew();
        while (watch.ElapsedMilliseconds < milliseconds)
        {
        }

        return milliseconds;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(13)]
    [InlineData(1000)]
    public async Task Map_ReturnsEveryResultInOrder_WhateverTheChunkSize(int chunkSize)
    {
        using var server = new JobServer(2);
        List<int> squares = await Bounds.RunWithin(() => server.Map(Functions.Square, Enumerable.Range(0, 500), chunkSize).ToList());
        Assert.Equal(Enumerable.Range(0, 500).Select(i => i * i), squares);
    }

    [Fact]
    public async Task Map_RunsASourceFunction()
    {
        using var server = new JobServer(2);
        var cube = new SourceFunction<int, long>("static long Cube(int x) => (long)x * x * x;");
        List<long> cubes = await Bounds.RunWithin(() => server.Map(cube, Enumerable.Range(0, 50), chunkSize: 8).ToList());
        Assert.Equal(Enumerable.Range(0, 50).Select(x => (long)x * x * x), cubes);
    }

    [Fact]
    public async Task Map_IsLazy_AndWorksOnAnEndlessSequence()
    {
        using var server = new JobServer(2);
        IEnumerable<int> endless = Enumerable.Range(0, int.MaxValue).Select(i => i);
        List<int> first = await Bounds.RunWithin(() => server.Map(Functions.Square, endless, chunkSize: 4).Take(50).ToList());
        Assert.Equal(Enumerable.Range(0, 50).Select(i => i * i), first);
    }

    [Fact]
    public async Task AnItemsException_SurfacesWhenItsResultIsReached_NamingItsIndex()
    {
        using var server = new JobServer(2);
        var seen = new List<int>();
        MapItemFailedException error = await Assert.ThrowsAsync<MapItemFailedException>(() => Bounds.RunWithin(() =>
        {
            foreach (int value in server.Map(FailOnSeven, Enumerable.Range(0, 20), chunkSize: 3))
            {
                seen.Add(value);
            }
        }));

        Assert.Equal(7, error.Index);
        Assert.Contains("Item 7", error.Message);
        Assert.Equal(typeof(InvalidOperationException).FullName, error.RemoteType);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => i * 10), seen); // items before 7 came first, in order
    }

    [Fact]
    public async Task MapUnordered_YieldsEveryResultOnce()
    {
        using var server = new JobServer(2);
        List<int> results = await Bounds.RunWithin(() => server.MapUnordered(SpinThenEcho, new[] { 30, 1, 1, 1, 20, 1, 1, 5 }, chunkSize: 1).ToList());
        Assert.Equal(new[] { 1, 1, 1, 1, 1, 5, 20, 30 }, results.Order());
    }

    [Fact]
    public async Task MapAsync_OrderedAndUnordered()
    {
        using var server = new JobServer(2);
        var ordered = new List<int>();
        await foreach (int value in server.MapAsync(Functions.Square, Enumerable.Range(0, 100)).WithCancellation(CancellationToken.None))
        {
            ordered.Add(value);
        }

        var unordered = new List<int>();
        await foreach (int value in server.MapAsync((int x) => Task.FromResult(x + 1), Enumerable.Range(0, 100), ordered: false))
        {
            unordered.Add(value);
        }

        Assert.Equal(Enumerable.Range(0, 100).Select(i => i * i), ordered);
        Assert.Equal(Enumerable.Range(1, 100), unordered.Order());
    }

    [Fact]
    public async Task CancellingAMap_ThrowsOperationCanceled_AndLeavesTheServerWorking()
    {
        using var server = new JobServer(1);
        using var cancel = new CancellationTokenSource();
        var results = new List<int>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Bounds.RunWithin(() =>
        {
            foreach (int value in server.Map(SpinThenEcho, Enumerable.Repeat(1, 1000), chunkSize: 1, cancellationToken: cancel.Token))
            {
                results.Add(value);
                if (results.Count == 5)
                {
                    cancel.Cancel();
                }
            }
        }));

        Assert.Equal(5, results.Count);
        Assert.Equal(9, await server.Submit(Functions.Square, 3).Within());
    }

    [Fact]
    public async Task AsCompleted_YieldsEachJobOnce_AsItFinishes()
    {
        using var gate = new JobGate();
        using var server = new JobServer(2);
        Job<int> slow = server.Submit(JobControlTests.WaitAtGate, gate.Port);
        await gate.NextArrivalAsync();
        var quick = Enumerable.Range(0, 5).Select(i => server.Submit(Functions.Square, i)).ToList();

        var order = new List<Job<int>>();
        Task reading = Task.Run(() =>
        {
            foreach (Job<int> job in JobServer.AsCompleted([slow, .. quick]))
            {
                order.Add(job);
                if (order.Count == quick.Count)
                {
                    gate.Open(); // the slow one can only finish after every quick one was yielded
                }
            }
        });
        await reading.WaitAsync(Bounds.Hang);

        Assert.Equal(6, order.Distinct().Count());
        Assert.Same(slow, order[^1]);

        var asyncOrder = new List<Job<int>>();
        await foreach (Job<int> job in JobServer.AsCompletedAsync(quick))
        {
            asyncOrder.Add(job);
        }

        Assert.Equal(quick.Select(j => j.Id).Order(), asyncOrder.Select(j => j.Id).Order());
    }

    private sealed class Recorder : IProgress<MapProgress>
    {
        public List<MapProgress> Reports { get; } = [];

        public void Report(MapProgress value) => Reports.Add(value);
    }

    [Fact]
    public async Task AProgressReporter_HearsOfEveryChunk_AndOfFailures()
    {
        using var server = new JobServer(2);
        var recorder = new Recorder();
        await Assert.ThrowsAsync<MapItemFailedException>(() => Bounds.RunWithin(() => server.Map(FailOnSeven, Enumerable.Range(0, 20), recorder, chunkSize: 5, ordered: false).ToList()));
        var all = new Recorder();
        List<int> squares = await Bounds.RunWithin(() => server.Map(Functions.Square, Enumerable.Range(0, 20), all, chunkSize: 5).ToList());

        Assert.Contains(recorder.Reports, r => r.Failed == 1);
        Assert.Equal([5, 10, 15, 20], all.Reports.Select(r => r.Done));
        Assert.All(all.Reports, r => Assert.Equal(20, r.Total));
        Assert.Equal(0, all.Reports[^1].Failed);
        Assert.Equal(TimeSpan.Zero, all.Reports[^1].Remaining);
    }

    [Fact]
    public async Task Progress_DrawsABarOnATerminal_AndNothingWhenRedirected()
    {
        var terminal = new StringWriter();
        MapProgressDisplay.OutputOverride = (terminal, true);
        try
        {
            using var server = new JobServer(2);
            await Bounds.RunWithin(() => server.Map(Functions.Square, Enumerable.Range(0, 40), chunkSize: 4, progress: true).ToList());
            Assert.Contains("40/40", terminal.ToString());
            Assert.Contains("[##############################]", terminal.ToString());

            var redirected = new StringWriter();
            MapProgressDisplay.OutputOverride = (redirected, false);
            await Bounds.RunWithin(() => server.Map(Functions.Square, Enumerable.Range(0, 40), progress: true).ToList());
            Assert.Equal(string.Empty, redirected.ToString());
        }
        finally
        {
            MapProgressDisplay.OutputOverride = null;
        }
    }

    public static int FailOn(int x) => x == 3 ? throw new InvalidOperationException("three") : x;

    [Fact]
    public async Task WaitOfAGroup_DrawsABarOnATerminal_WithFailures_AndNothingWhenRedirected()
    {
        var terminal = new StringWriter();
        MapProgressDisplay.OutputOverride = (terminal, true);
        try
        {
            using var server = new JobServer(2);
            Job<int>[] jobs = [.. Enumerable.Range(0, 10).Select(i => server.Submit(FailOn, i, group: "sweep"))];
            await Bounds.RunWithin(() => server.Wait("sweep", progress: true));

            Assert.All(jobs, job => Assert.True(job.IsCompleted));
            Assert.Contains("10/10", terminal.ToString());
            Assert.Contains("[##############################]", terminal.ToString());
            Assert.Contains("1 failed", terminal.ToString());

            var redirected = new StringWriter();
            MapProgressDisplay.OutputOverride = (redirected, false);
            _ = Enumerable.Range(0, 4).Select(i => server.Submit(FailOn, i, group: "again")).ToList();
            await Bounds.RunWithin(() => server.Wait("again", progress: true));
            Assert.Equal(string.Empty, redirected.ToString());
        }
        finally
        {
            MapProgressDisplay.OutputOverride = null;
        }
    }

    [Fact]
    public async Task WaitAsyncOfAGroup_ReportsEachJobOfThatGroup_ToAnIProgress()
    {
        using var gate = new JobGate();
        using var server = new JobServer(2);
        Job<int> other = server.Submit(JobControlTests.WaitAtGate, gate.Port, group: "other");
        Job<int>[] jobs = [.. Enumerable.Range(0, 6).Select(i => server.Submit(FailOn, i, group: "sweep"))];
        var reports = new System.Collections.Concurrent.ConcurrentQueue<MapProgress>();

        await server.WaitAsync("sweep", new SynchronousProgress(reports.Enqueue)).WaitAsync(Bounds.Hang);

        Assert.False(other.IsCompleted); // another group's job is neither waited for nor counted
        MapProgress last = reports.MaxBy(r => r.Done)!;
        Assert.Equal(new { Done = 6, Total = (int?)6, Failed = 1 }, new { last.Done, last.Total, last.Failed });
        Assert.Equal(6, reports.Count);
        gate.Open();
        await other.Within();
    }

    private sealed class SynchronousProgress(Action<MapProgress> report) : IProgress<MapProgress>
    {
        public void Report(MapProgress value) => report(value);
    }
}
