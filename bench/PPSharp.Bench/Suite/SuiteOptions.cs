namespace PPSharp.Bench.Suite;

/// <summary>The suite's command line: <c>[--json PATH] [--quick]</c>.</summary>
internal sealed record SuiteOptions(string? JsonPath, bool Quick)
{
    /// <summary>Tiny-job throughput: identity jobs per run (issue 5: 200,000).</summary>
    public int ThroughputJobs => Quick ? 20_000 : 200_000;

    /// <summary>Tiny-job throughput: measured runs (the median is reported).</summary>
    public int ThroughputRuns => Quick ? 1 : 3;

    /// <summary>One job at a time: measured round trips after warm-up.</summary>
    public int RoundTrips => Quick ? 500 : 2_000;

    /// <summary>Raw transport ping-pong: measured round trips after warm-up.</summary>
    public int RawRoundTrips => Quick ? 2_000 : 20_000;

    /// <summary>8 MiB argument: measured jobs (the median is reported) after 2 warm-up jobs.</summary>
    public int Echoes => Quick ? 4 : 20;

    /// <summary>Raw transport: small frames streamed, batched.</summary>
    public int BatchedFrames => Quick ? 200_000 : 2_000_000;

    /// <summary>In-process Task.Run of the same tiny function (issue 5: about 5 million per second).</summary>
    public int TaskRuns => Quick ? 200_000 : 2_000_000;

    /// <summary>CPU-bound scaling: sum_primes jobs (issue 5: 128).</summary>
    public int ScalingJobs => Quick ? 32 : 128;

    /// <summary>Memory: tiny jobs queued with no worker (issue 5: one million).</summary>
    public int QueuedJobs => Quick ? 100_000 : 1_000_000;

    public static SuiteOptions? Parse(string[] args)
    {
        string? json = null;
        bool quick = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--json" when i + 1 < args.Length:
                    json = args[++i];
                    break;
                case "--quick":
                    quick = true;
                    break;
                default:
                    return null;
            }
        }

        return new SuiteOptions(json, quick);
    }
}
