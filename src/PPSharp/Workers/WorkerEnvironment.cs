namespace PPSharp.Workers;

/// <summary>The environment variables through which a job server tells a process it starts that it is a worker.</summary>
internal static class WorkerEnvironment
{
    /// <summary>Path of the Unix domain socket to connect back to.</summary>
    public const string Endpoint = "PPSHARP_WORKER_ENDPOINT";

    /// <summary>Random per-worker token, echoed in Hello so the server knows which process connected.</summary>
    public const string Token = "PPSHARP_WORKER_TOKEN";

    /// <summary>Largest frame the worker accepts.</summary>
    public const string MaxFrame = "PPSHARP_WORKER_MAX_FRAME";

    /// <summary>How long a job past its time limit may take to stop by itself before the worker ends, in ms.</summary>
    public const string GraceMilliseconds = "PPSHARP_WORKER_GRACE_MS";

    /// <summary>The most characters of a job's console output kept (head and tail); see <c>JobServerOptions.MaxJobOutputSize</c>.</summary>
    public const string MaxOutput = "PPSHARP_WORKER_MAX_OUTPUT";

    public const string StartupHooks = "DOTNET_STARTUP_HOOKS";
}
