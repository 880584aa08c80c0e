namespace PPSharp.Tests.Diagnostics;

/// <summary>The <c>PPSharp</c> meter, read with a <see cref="System.Diagnostics.Metrics.MeterListener"/> over real worker processes.</summary>
[Collection(RunAlone.Name)]
public sealed class MetricsTests
{
    private static int Divide(int x) => 100 / x;

    [Fact]
    public async Task Meter_CountsEverySubmittedCompletedAndFailedJob_OfAKnownRun()
    {
        const int jobs = 12;
        int[] divisors = [.. Enumerable.Range(0, jobs).Select(i => i % 4 == 0 ? 0 : i)]; // 3 zeros: 3 failures
        int failures = divisors.Count(d => d == 0);
        using var recorder = new MeterRecorder();
        using var server = new JobServer(2);

        Job<int>[] submitted = [.. divisors.Select(d => server.Submit(Divide, d))];
        foreach (Job<int> job in submitted)
        {
            await Task.WhenAny(job.AsTask()).WaitAsync(Bounds.Hang);
        }

        Assert.Equal(failures, submitted.Count(j => j.IsFailed));
        Assert.Equal(jobs, recorder.Sum("ppsharp.jobs.submitted"));
        Assert.Equal(jobs - failures, recorder.Sum("ppsharp.jobs.completed"));
        Assert.Equal(jobs - failures, recorder.Sum("ppsharp.jobs.completed", "ppsharp.node", "local"));
        Assert.Equal(failures, recorder.Sum("ppsharp.jobs.failed", "error.type", typeof(DivideByZeroException).FullName));
        Assert.Equal(0, recorder.Sum("ppsharp.jobs.retried"));
        Assert.Equal(jobs, recorder.Measurements("ppsharp.job.duration").Count);
        Assert.All(recorder.Measurements("ppsharp.job.duration"), m => Assert.True(m.Value >= 0));
        Assert.Equal(jobs, recorder.Measurements("ppsharp.job.queue.duration").Count);
        Assert.True(recorder.Sum("ppsharp.network.io", "network.io.direction", "transmit") > 0);
        Assert.True(recorder.Sum("ppsharp.network.io", "network.io.direction", "receive") > 0);
    }

    [Fact]
    public async Task Gauges_ShowQueueLengthAndBusyWorkers_WhileJobsWait_AndNoneAfter()
    {
        using var recorder = new MeterRecorder();
        using var gate = new JobGate();
        using var server = new JobServer(1);

        Job<int> running = server.Submit(JobGate.ArriveAndWait, gate.Port);
        Job<int>[] queued = [.. Enumerable.Range(0, 3).Select(_ => server.Submit(JobGate.ArriveAndWait, gate.Port))];
        await gate.NextArrivalAsync(); // the first job runs, so the worker is busy; the others wait (their function is not known to be short)

        recorder.Collect();
        // One job runs, one is held ahead on the worker (so it never waits for this process), two wait in the queue.
        Assert.Equal(2, recorder.Sum("ppsharp.queue.length"));
        Assert.Equal(2, recorder.Sum("ppsharp.jobs.in_flight", "ppsharp.node", "local"));
        Assert.Equal(1, recorder.Sum("ppsharp.workers", "ppsharp.worker.state", "busy"));
        Assert.Equal(0, recorder.Sum("ppsharp.workers", "ppsharp.worker.state", "idle"));
        Assert.Equal(0, recorder.Sum("ppsharp.nodes.connected"));

        gate.Open();
        await new[] { running }.Concat(queued).AllWithin();
        recorder.Clear();
        recorder.Collect();
        Assert.Equal(0, recorder.Sum("ppsharp.queue.length"));
        Assert.Equal(0, recorder.Sum("ppsharp.workers", "ppsharp.worker.state", "busy"));
        Assert.Equal(1, recorder.Sum("ppsharp.workers", "ppsharp.worker.state", "idle"));
    }

    [Fact]
    public void Meter_PublishesThePinnedInstrumentNames()
    {
        using var recorder = new MeterRecorder();
        using var server = new JobServer(0); // starts no worker; begins the meter's creation on a pool thread
        _ = server.Submit(static () => 1); // a job's first count waits for the meter: from here its instruments exist

        string[] pinned = ["ppsharp.jobs.submitted", "ppsharp.jobs.completed", "ppsharp.jobs.failed", "ppsharp.job.duration", "ppsharp.queue.length"];
        Assert.All(pinned, name => Assert.Contains(name, recorder.Instruments.Keys));
        Assert.Equal("s", recorder.Instruments["ppsharp.job.duration"].Unit);
    }
}
