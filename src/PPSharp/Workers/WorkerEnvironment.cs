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

    public const string StartupHooks = "DOTNET_STARTUP_HOOKS";
}
