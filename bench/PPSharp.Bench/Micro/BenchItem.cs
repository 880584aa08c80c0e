using PPSharp.Scheduling;

namespace PPSharp.Bench.Micro;

/// <summary>A work item whose completion does nothing: the scheduler's and the framing's view of a job, without a caller behind it.</summary>
internal sealed class BenchItem(long id, FunctionDefinition function, ReadOnlyMemory<byte> body) : WorkItem(id, function, body, WorkSettings.Default)
{
    public int Completed { get; private set; }

    public override void Complete(in WorkOutcome outcome) => Completed++;
}
