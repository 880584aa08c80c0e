using System.Diagnostics;
using PPSharp.Scheduling;

namespace PPSharp.Diagnostics;

/// <summary>
/// The one call per step of a job's path that feeds the <c>PPSharp</c> meter, the <c>PPSharp</c> activity source and
/// the dashboard's hook. Each costs a few branches when nothing listens.
/// </summary>
internal static class Telemetry
{
    /// <summary>A client's job is about to be queued: start its activity, whose context travels with it.</summary>
    public static void OnSubmitting(WorkItem item, Job job)
    {
        Activity? activity = PPSharpActivities.StartJob(job.Id, job.Group);
        if (activity is not null)
        {
            activity.SetTag("ppsharp.function", FunctionNames.Of(item.Function));
            item.Activity = activity; // and so its id is the trace parent sent with the job
        }
    }

    /// <summary>A job entered a scheduler's queue (called under its lock).</summary>
    public static void OnEnqueued(Scheduler scheduler, WorkItem item)
    {
        PPSharpMetrics.OnEnqueued(item);
        foreach (IJobObserver observer in JobEvents.Observers)
        {
            observer.OnEnqueued(scheduler, item);
        }
    }

    /// <summary>A job left the queue for <paramref name="executor"/> (called under the scheduler's lock).</summary>
    public static void OnDispatched(Scheduler scheduler, WorkItem item, JobExecutor executor)
    {
        PPSharpMetrics.OnDispatched(item, executor);
        foreach (IJobObserver observer in JobEvents.Observers)
        {
            observer.OnDispatched(scheduler, item, executor);
        }
    }

    /// <summary>Jobs held by a lost executor went back to the queue.</summary>
    public static void OnRequeued(int count, JobExecutor executor) => PPSharpMetrics.OnRequeued(count, executor);

    /// <summary>A job's outcome is being delivered (exactly once).</summary>
    public static void OnCompleted(WorkItem item, in WorkOutcome outcome)
    {
        PPSharpMetrics.OnCompleted(outcome);
        if (item.Activity is { } activity)
        {
            PPSharpActivities.StopJob(activity, outcome);
        }

        if (outcome.LocalError is OperationCanceledException)
        {
            OnCancelled(item);
        }

        foreach (IJobObserver observer in JobEvents.Observers)
        {
            observer.OnCompleted(item, outcome);
        }
    }

    /// <summary>A job was cancelled: its outcome (counted by <see cref="PPSharpMetrics.OnCompleted"/>) is being delivered.</summary>
    public static void OnCancelled(WorkItem item)
    {
        foreach (IJobObserver observer in JobEvents.Observers)
        {
            observer.OnCancelled(item);
        }
    }
}
