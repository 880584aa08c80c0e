using PPSharp.Execution;

namespace PPSharp.Internal;

/// <summary>Writes a job's captured console output to this process's console, each stream to its own, one job at a time.</summary>
internal static class JobConsole
{
    private static readonly Lock Gate = new();

    public static void Replay(string? encoded)
    {
        lock (Gate)
        {
            foreach ((bool error, string text) in ConsoleText.Decode(encoded))
            {
                (error ? Console.Error : Console.Out).Write(text);
            }

            Console.Out.Flush();
        }
    }
}
