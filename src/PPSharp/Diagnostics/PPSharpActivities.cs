using System.Diagnostics;
using PPSharp.Scheduling;

namespace PPSharp.Diagnostics;

/// <summary>
/// The <c>PPSharp</c> activity source: one activity per job, from <c>Submit</c> to its result, whose W3C trace context
/// travels with the job (the <c>traceparent</c> field of RunJob), so that activities the job starts in its worker,
/// local or on a node, are its children. Nothing is created unless a listener samples the source.
/// </summary>
internal static class PPSharpActivities
{
    /// <summary>The source's name (pinned: listeners and OpenTelemetry subscribe to it by name).</summary>
    public const string SourceName = "PPSharp";

    /// <summary>The job's activity on the submitting side.</summary>
    public const string JobActivity = "ppsharp.job";

    /// <summary>The job's run inside a worker.</summary>
    public const string RunActivity = "ppsharp.job.run";

    public static readonly ActivitySource Source = new(SourceName, typeof(PPSharpActivities).Assembly.GetName().Version?.ToString());

    /// <summary>
    /// Starts a job's activity as a child of the caller's current activity, without making it current: the caller's
    /// code goes on under its own activity. Returns null (at the cost of one check) when nothing listens.
    /// </summary>
    public static Activity? StartJob(long jobId, string group)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        Activity? caller = Activity.Current;
        Activity? activity = Source.StartActivity(JobActivity, ActivityKind.Producer);
        if (activity is null)
        {
            return null;
        }

        Activity.Current = caller;
        activity.SetTag("ppsharp.job.id", jobId);
        activity.SetTag("ppsharp.job.group", group);
        return activity;
    }

    /// <summary>Ends a job's activity with its outcome, without disturbing the current activity of the calling thread.</summary>
    public static void StopJob(Activity activity, in WorkOutcome outcome)
    {
        activity.SetTag(PPSharpMetrics.NodeTag, outcome.Node);
        if (outcome.Kind != OutcomeKind.Succeeded)
        {
            string type = PPSharpMetrics.ErrorType(outcome);
            activity.SetTag(PPSharpMetrics.ErrorTypeTag, type);
            activity.SetStatus(ActivityStatusCode.Error, outcome.ErrorMessage ?? outcome.LocalError?.Message ?? type);
        }

        Activity? current = Activity.Current;
        activity.Stop();
        Activity.Current = current;
    }

    /// <summary>
    /// In a worker: the activity the job runs under, child of the submitting side's job activity named by
    /// <paramref name="traceParent"/>. Made through this source when something in the worker listens, else as a plain
    /// <see cref="Activity"/>, so that <see cref="Activity.Current"/> inside the job carries the trace either way.
    /// Null when the job came without trace context.
    /// </summary>
    public static Activity? StartRun(string? traceParent)
    {
        if (traceParent is null || !ActivityContext.TryParse(traceParent, null, out ActivityContext parent))
        {
            return null;
        }

        return Source.StartActivity(RunActivity, ActivityKind.Consumer, parent)
            ?? new Activity(RunActivity).SetParentId(traceParent).Start();
    }
}
