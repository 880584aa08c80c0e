using System.Collections.Concurrent;
using PPSharp.Tests.Server;

namespace PPSharp.Tests.Diagnostics;

/// <summary>
/// The <c>PPSharp</c> activity source: one activity per job, whose trace context reaches the worker (local, or on a
/// real ppserver node), so that what the job does runs under it.
/// </summary>
public sealed class TracingTests : IDisposable
{
    private static readonly ActivitySource TestSource = new("PPSharp.Tests.Tracing");
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public TracingTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "PPSharp" or "PPSharp.Tests.Tracing",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>Job code: the trace and parent span of the activity the job runs under, in the worker.</summary>
    public static string CurrentContext() => $"{Activity.Current?.TraceId}/{Activity.Current?.ParentSpanId}";

    /// <summary>Job code: starts an activity of its own (listened to inside the worker) and reports how it nests.</summary>
    public static string StartOwnActivity()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "JobCode",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using var source = new ActivitySource("JobCode");
        string expectedParent = Activity.Current?.SpanId.ToString() ?? "none";
        using Activity child = source.StartActivity("inside the job") ?? throw new InvalidOperationException("not sampled");
        return $"{child.TraceId}/{child.ParentSpanId}/{expectedParent}";
    }

    [Fact]
    public async Task JobActivity_IsParentOfWhatTheJobRuns_OnALocalWorker()
    {
        using var server = new JobServer(1);
        await AssertJobsNestUnderTheirActivitiesAsync(server);
    }

    [Fact]
    public async Task JobActivity_IsParentOfWhatTheJobRuns_OnAPpserverNode()
    {
        const string secret = "tracing-secret";
        using PpServerProcess node = PpServerProcess.Start(["-p", "0", "-i", "127.0.0.1", "-w", "1", "-s", secret]);
        int port = await node.WaitForListeningAsync();
        using var server = new JobServer(0, ppservers: [$"127.0.0.1:{port}"], secret: secret);
        await AssertJobsNestUnderTheirActivitiesAsync(server);
    }

    [Fact]
    public async Task JobActivity_IsNotCreated_AndNoContextTravels_WhenNothingListens()
    {
        _listener.Dispose(); // this test's listener off; another test's may be on, so look at this job's own trace only
        _stopped.Clear(); // jobs of tests running beside this one may have ended while the listener was on
        using var server = new JobServer(1);
        Activity.Current = null;

        string context = await server.Submit(CurrentContext).Within();

        Assert.DoesNotContain(_stopped, a => a.OperationName == "ppsharp.job");
        Assert.True(context == "/" || !context.StartsWith("00000000000000000000000000000000", StringComparison.Ordinal), context);
    }

    private async Task AssertJobsNestUnderTheirActivitiesAsync(JobServer server)
    {
        using Activity root = TestSource.StartActivity("test root") ?? throw new InvalidOperationException("the test's root activity was not sampled");

        Job<string> plain = server.Submit(CurrentContext);
        Job<string> own = server.Submit(StartOwnActivity);
        string[] plainContext = (await plain.Within()).Split('/');
        string[] ownContext = (await own.Within()).Split('/');

        Assert.Same(root, Activity.Current); // submitting did not change the caller's current activity
        Activity plainJob = JobActivity(plain.Id, root);
        Activity ownJob = JobActivity(own.Id, root);
        Assert.Equal(root.SpanId, plainJob.ParentSpanId);
        Assert.Equal(ActivityKind.Producer, plainJob.Kind);
        Assert.Equal(plain.Node, plainJob.GetTagItem("ppsharp.node"));

        // In the worker: the activity the job ran under belongs to the caller's trace and is the job activity's child.
        Assert.Equal(root.TraceId.ToString(), plainContext[0]);
        Assert.Equal(plainJob.SpanId.ToString(), plainContext[1]);

        // An activity the job starts itself nests under the job's run, in the same trace.
        Assert.Equal(root.TraceId.ToString(), ownContext[0]);
        Assert.Equal(ownContext[2], ownContext[1]);
        Assert.NotEqual(ownJob.SpanId.ToString(), ownContext[1]); // its parent is the run in the worker, itself under the job
    }

    private Activity JobActivity(long jobId, Activity root)
    {
        Activity[] matching = [.. _stopped.Where(a => a.OperationName == "ppsharp.job" && a.TraceId == root.TraceId && Equals(a.GetTagItem("ppsharp.job.id"), jobId))];
        return Assert.Single(matching);
    }
}
