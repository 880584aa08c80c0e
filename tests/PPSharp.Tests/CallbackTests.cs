using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace PPSharp.Tests;

/// <summary>Behaviour 10: callbacks run in the caller's process, off the channel thread; Wait waits for them; their exceptions are logged.</summary>
public sealed class CallbackTests
{
    [Fact]
    public async Task Callback_RunsInCallersProcessWithResult_BeforeWaitReturns()
    {
        using var server = new JobServer(1);
        var seen = new ConcurrentBag<(int Result, int Pid)>();

        _ = server.Submit(Functions.Square, 7, callback: r => seen.Add((r, Environment.ProcessId)));
        await Bounds.RunWithin(() => server.Wait());

        (int result, int pid) = Assert.Single(seen);
        Assert.Equal(49, result);
        Assert.Equal(Environment.ProcessId, pid);
    }

    [Fact]
    public async Task Wait_ReturnsOnlyAfterEveryCallbackRan_WhenManyJobsHaveCallbacks()
    {
        using var server = new JobServer(2);
        var results = new ConcurrentBag<int>();

        for (int i = 0; i < 100; i++)
        {
            _ = server.Submit(Functions.Square, i, callback: results.Add);
        }

        await Bounds.RunWithin(() => server.Wait());

        Assert.Equal(Enumerable.Range(0, 100).Select(i => i * i).Order(), results.Order());
    }

    [Fact]
    public async Task WaitGroup_ReturnsAfterThatGroupsCallbacksRan_WhenOtherGroupIsStillBlocked()
    {
        using var gate = new JobGate();
        using var server = new JobServer(2);
        var sums = new ConcurrentBag<int>();
        Job<int> other = server.Submit(JobGate.ArriveAndWait, gate.Port, group: "blocked");
        await gate.NextArrivalAsync();

        for (int i = 1; i <= 10; i++)
        {
            _ = server.Submit(Functions.Square, i, callback: sums.Add, group: "sums");
        }

        await Bounds.RunWithin(() => server.Wait("sums"));

        Assert.Equal(385, sums.Sum());
        Assert.False(other.IsCompleted);
        gate.Open();
        await other.Within();
    }

    [Fact]
    public async Task WaitAsync_CompletesAfterGroupsCallbacksRan_WhenAwaited()
    {
        using var server = new JobServer(2);
        var sums = new ConcurrentBag<long>();

        for (int n = 100; n <= 500; n += 100)
        {
            _ = server.Submit(Functions.SumPrimes, n, callback: sums.Add, group: "g");
        }

        await server.WaitAsync("g").WaitAsync(Bounds.Hang);

        Assert.Equal(5, sums.Count);
        Assert.Contains(1060L, sums);
    }

    [Fact]
    public async Task SlowCallback_DoesNotHoldBackOtherResults_WhileItBlocks()
    {
        using var server = new JobServer(1);
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();

        Job<int> slow = server.Submit(Functions.Square, 2, callback: _ =>
        {
            entered.Set();
            release.Wait(Bounds.Heavy);
        });
        await Bounds.RunWithin(() => Assert.True(entered.Wait(Bounds.Hang)));

        Job<int> next = server.Submit(Functions.Square, 3);
        int nextResult = await next.Within();
        release.Set();

        Assert.Equal(9, nextResult);
        Assert.Equal(4, await slow.Within());
        await Bounds.RunWithin(() => server.Wait());
    }

    [Fact]
    public async Task ThrowingCallback_DoesNotBreakServer_AndIsLogged()
    {
        using var provider = new CapturingLoggerProvider();
        using var loggerFactory = new LoggerFactory([provider]);
        using var server = new JobServer(new JobServerOptions { Ncpus = 1, LoggerFactory = loggerFactory });

        Job<int> job = server.Submit(Functions.Square, 6, callback: _ => throw new InvalidOperationException("callback exploded"));
        try
        {
            await Bounds.RunWithin(() => server.Wait());
        }
        catch (InvalidOperationException)
        {
            // Whether Wait rethrows the callback's exception is not pinned; it must not hang or kill the server.
        }

        Assert.Equal(36, await job.Within());
        Assert.Equal(49, await server.Submit(Functions.Square, 7).Within());
        var results = new ConcurrentBag<int>();
        _ = server.Submit(Functions.Square, 8, callback: results.Add);
        await Bounds.RunWithin(() => server.Wait());
        Assert.Equal([64], results);
        Assert.Contains(provider.Entries, e => e.Level >= LogLevel.Warning
            && (e.Exception?.Message.Contains("callback exploded") == true || e.Message.Contains("callback exploded")));
    }

    [Fact]
    public async Task Callback_RunsForActionJob_WhenJobHasNoResult()
    {
        using var server = new JobServer(1);
        int called = 0;

        _ = server.Submit((int x) => { _ = x; }, 1, callback: () => Interlocked.Increment(ref called));
        await Bounds.RunWithin(() => server.Wait());

        Assert.Equal(1, Volatile.Read(ref called));
    }

    [Fact]
    public async Task Callback_CanDisposeTheServer_WithoutHanging()
    {
        using var server = new JobServer(1);
        using var disposed = new ManualResetEventSlim();

        Job<int> job = server.Submit(Functions.Square, 3, callback: _ =>
        {
            server.Dispose();
            disposed.Set();
        });

        Assert.Equal(9, await job.Within());
        await Bounds.RunWithin(() => Assert.True(disposed.Wait(Bounds.Hang)));
        Assert.Throws<DestroyedServerException>(() => server.Submit(Functions.Square, 4));
    }

    [Fact]
    public async Task Callback_CanSubmitAnotherJob_FromInsideTheCallback()
    {
        using var server = new JobServer(1);
        var inner = new TaskCompletionSource<Job<int>>(TaskCreationOptions.RunContinuationsAsynchronously);

        _ = server.Submit(Functions.Square, 3, callback: r => inner.SetResult(server.Submit(Functions.Square, r)));
        Job<int> second = await inner.Task.WaitAsync(Bounds.Hang);

        Assert.Equal(81, await second.Within());
    }
}
