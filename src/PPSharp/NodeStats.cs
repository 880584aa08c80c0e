namespace PPSharp;

/// <summary>Execution statistics of one node ("local" or "host:port"), as ppft's <c>get_stats()</c> gives them.</summary>
/// <param name="Ncpus">Workers the node has.</param>
/// <param name="JobCount">Jobs it has finished (successfully or not).</param>
/// <param name="JobTime">Sum of its jobs' execution times, measured where they ran.</param>
public sealed record NodeStats(int Ncpus, int JobCount, TimeSpan JobTime);
