using PPSharp.Workers;

#pragma warning disable CA1050 // The runtime looks the startup hook up by this exact name, outside any namespace.

/// <summary>
/// How a worker process starts: the job server relaunches the caller's own application with this assembly as a .NET
/// startup hook (<c>DOTNET_STARTUP_HOOKS</c>), so the worker has exactly the caller's assemblies and NuGet dependencies
/// and needs nothing installed or built besides a reference to PPSharp. The hook runs before the application's Main,
/// serves jobs, and exits the process, so the application's own code never runs in a worker.
/// </summary>
internal static class StartupHook
{
    /// <summary>Called by the runtime before Main.</summary>
    public static void Initialize()
    {
        string? endpoint = Environment.GetEnvironmentVariable(WorkerEnvironment.Endpoint);
        string? token = Environment.GetEnvironmentVariable(WorkerEnvironment.Token);
        if (endpoint is null || token is null)
        {
            return; // Loaded as a hook by something else: not a worker, let the application run.
        }

        WorkerHost.Run(endpoint, token);
    }
}
