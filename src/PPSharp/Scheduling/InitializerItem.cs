namespace PPSharp.Scheduling;

/// <summary>
/// The worker initializer as a job: sent to each new local worker before it joins the scheduler, so it runs before
/// any job there. Its id is never a real job's, and its answer only says whether it worked.
/// </summary>
internal sealed class InitializerItem(FunctionDefinition function, byte[] body) : WorkItem(JobId, function, body, WorkSettings.Default)
{
    /// <summary>The id an initializer runs under: below every job id, which start at 1.</summary>
    public const long JobId = -1;

    public override void Complete(in WorkOutcome outcome)
    {
    }
}
