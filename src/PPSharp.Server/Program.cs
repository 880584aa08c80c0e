// ppserver: ppft's network node for PPSharp. Parses the options (SettingsLoader merges the command line,
// $PPSHARP_SECRET and the config file), then runs a PPSharp.Remote.NodeHost until a signal or the idle timeout
// stops it (NodeRunner). Exit codes: see ExitCodes.
using System.CommandLine;
using System.CommandLine.Invocation;
using Microsoft.Extensions.Logging;

namespace PPSharp.Server;

internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        var commandLine = new ServerCommandLine();
        ParseResult parsed = commandLine.Parse(args);
        if (parsed.Action is not null and not ParseErrorAction)
        {
            return await parsed.InvokeAsync(); // --help, --version
        }

        IReadOnlyList<string> errors = commandLine.Errors(parsed);
        if (errors.Count > 0)
        {
            foreach (string error in errors)
            {
                await Console.Error.WriteLineAsync($"ppserver: {error}");
            }

            await Console.Error.WriteLineAsync("Try 'ppserver --help' for the list of options.");
            return ExitCodes.Usage;
        }

        try
        {
            ServerSettings settings = SettingsLoader.Load(commandLine.Values(parsed), Environment.GetEnvironmentVariable);

            // Disposed before the process exits: the console logger writes on a background thread and flushes here.
            using ILoggerFactory loggerFactory = ServerLog.CreateFactory(settings);
            return await NodeRunner.RunAsync(settings, loggerFactory, Console.Out);
        }
        catch (SettingsException e)
        {
            await Console.Error.WriteLineAsync($"ppserver: {e.Message}");
            return ExitCodes.Usage;
        }
    }
}
