namespace PPSharp.Tests.Errors;

/// <summary>
/// JobServer.JobFinished hears of every job, failed ones included, so a ppft-style program that counts completions
/// finishes even when a job throws; a job's own callback still receives results only.
/// </summary>
public sealed class JobFinishedTests
{
    [Fact]
    public async Task JobFinished_IsRaisedForFailedAndSucceededJobs_AndCallbacksStillGetResultsOnly()
    {
        using var server = new JobServer(2);
        var finished = new List<(long Id, bool Succeeded, Exception? Error)>();
        var results = new List<int>();
        using var all = new CountdownEvent(4);
        server.JobFinished += (_, e) =>
        {
            finished.Add((e.Job.Id, e.Succeeded, e.Exception));
            all.Signal();
        };

        Job<int>[] jobs = [.. new[] { 1, 0, 2, 0 }.Select(d => server.Submit((int x) => 10 / x, d, callback: results.Add))];
        Assert.True(await Bounds.RunWithin(() => all.Wait(Bounds.Hang)), "not every job was reported");

        Assert.Equal([5, 10], results.Order());
        Assert.Equal(jobs.Select(j => j.Id).Order(), finished.Select(f => f.Id).Order());
        Assert.All(finished.Where(f => !f.Succeeded), f => Assert.IsType<DivideByZeroException>(Assert.IsType<JobFailedException>(f.Error).InnerException));
        Assert.Equal(2, finished.Count(f => f.Succeeded));
    }

    [Fact]
    public async Task Wait_ReturnsAfterJobFinishedHandlersRan()
    {
        using var server = new JobServer(1);
        int failures = 0;
        server.JobFinished += (_, e) => failures += e.Succeeded ? 0 : 1;

        for (int i = 0; i < 5; i++)
        {
            _ = server.Submit((int x) => x < 3 ? throw new InvalidOperationException("no") : x, i);
        }

        await Bounds.RunWithin(() => server.Wait());

        Assert.Equal(3, failures);
    }

    [Fact]
    public async Task AThrowingHandler_DoesNotStopOtherJobs()
    {
        using var server = new JobServer(1);
        server.JobFinished += (_, _) => throw new InvalidOperationException("handler failed");

        Assert.Equal(9, await server.Submit(Functions.Square, 3).Within());
        Assert.Equal(16, await server.Submit(Functions.Square, 4).Within());
    }
}
