#pragma warning disable CA1050 // The runtime looks the startup hook up by this exact name, outside any namespace.

/// <summary>
/// A startup hook for tests that need worker processes that cannot start: give a <c>ppserver</c> this assembly in
/// <c>DOTNET_STARTUP_HOOKS</c> and <c>PPSHARP_TEST_WORKERS_CANNOT_START=1</c>, and every worker it starts exits at once,
/// before it introduces itself, as one whose runtime is broken would. The node itself (no worker endpoint in its
/// environment) runs normally.
/// </summary>
internal static class StartupHook
{
    public const string Variable = "PPSHARP_TEST_WORKERS_CANNOT_START";

    public static void Initialize()
    {
        if (Environment.GetEnvironmentVariable(Variable) == "1" && Environment.GetEnvironmentVariable("PPSHARP_WORKER_ENDPOINT") is not null)
        {
            Console.Error.WriteLine("this worker cannot start (the test's startup hook)");
            Environment.Exit(3);
        }
    }
}
