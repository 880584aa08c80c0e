namespace PPSharp;

/// <summary>A snapshot of one unfinished job, as <see cref="JobServer.GetJobs"/> lists it.</summary>
/// <param name="Id">The job's number.</param>
/// <param name="Group">Its group.</param>
/// <param name="State">Queued, sent (held ahead on a worker or node) or running.</param>
/// <param name="Node">Where it is, once sent: "local" or "host:port"; null while queued.</param>
public sealed record JobInfo(long Id, string Group, JobState State, string? Node);
