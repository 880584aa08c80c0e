namespace PPSharp;

/// <summary>Completion notifications for every job, failed ones included.</summary>
public sealed partial class JobServer
{
    /// <summary>
    /// Raised once for every job of this server when it finishes, whether it succeeded, failed or was ended by
    /// <see cref="Destroy"/>: the way to hear of failures, which a job's own <c>callback</c> does not (it receives a
    /// result, and a failed job has none). ppft calls a failed job's callback with <c>None</c>; in .NET a callback
    /// of <c>Action&lt;int&gt;</c> has no such value, so PPSharp keeps callbacks for results and adds this event.
    /// A program that counts completions counts here, and never waits for a failed job's callback.
    /// </summary>
    /// <remarks>
    /// Handlers run in this process on the callback thread, one at a time, in completion order, after the job's own
    /// callback; <see cref="Wait(string?)"/> returns only after they have run for the jobs it waited for. Subscribe before
    /// submitting: jobs that finish while no handler is subscribed are not reported later. A handler that throws is
    /// reported like a callback that throws; it never stops other handlers or jobs.
    /// </remarks>
    public event EventHandler<JobFinishedEventArgs>? JobFinished;

    internal bool HasJobFinishedHandlers => JobFinished is not null;

    /// <summary>Raises <see cref="JobFinished"/> for <paramref name="job"/>; called on the callback thread.</summary>
    internal void RaiseJobFinished(Job job, Exception? error)
    {
        try
        {
            JobFinished?.Invoke(this, new JobFinishedEventArgs(job, error));
        }
        catch (Exception ex)
        {
            ReportCallbackFailure(job, ex);
        }
    }
}
