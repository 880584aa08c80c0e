namespace PPSharp.Tests.Diagnostics;

/// <summary>
/// Tests that count what the process-wide <c>PPSharp</c> meter records: they run alone, so that jobs of other test
/// classes running at the same time cannot add to their counts.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunAlone
{
    public const string Name = "Process-wide telemetry";
}
