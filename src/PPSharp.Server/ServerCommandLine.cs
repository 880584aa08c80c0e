using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Reflection;

namespace PPSharp.Server;

/// <summary>
/// ppserver's command line, parsed by System.CommandLine: ppft's one-letter options (bundled flags such as
/// <c>-dar</c> work) and long forms beside them. Every value is taken as text here and validated by
/// <see cref="SettingsLoader"/>, so that a bad value gets the same kind of message whether it came from the
/// command line or the config file.
/// </summary>
internal sealed class ServerCommandLine
{
    private readonly RootCommand _root = new("PPSharp network node (ppft's ppserver)");
    private readonly Dictionary<Setting, Option> _options = [];

    public ServerCommandLine()
    {
        foreach (Setting setting in Setting.All)
        {
            // A value option may be repeated and the last one wins, as with ppft's getopt loop; each occurrence
            // takes exactly one token, so "-p 1 2" is still an error.
            Option option = setting.IsFlag
                ? new Option<bool>(setting.LongName, setting.Aliases) { Description = setting.Help }
                : new Option<string[]>(setting.LongName, setting.Aliases)
                {
                    Description = setting.Help,
                    HelpName = setting.ArgumentName,
                    Arity = ArgumentArity.OneOrMore,
                    AllowMultipleArgumentsPerToken = false,
                };
            _options.Add(setting, option);
            _root.Options.Add(option);
        }

        // ppft's usage text rather than System.CommandLine's generated one: it lists the options in ppft's
        // order and ends with the notes on signals, the secret and the config file.
        foreach (HelpOption help in _root.Options.OfType<HelpOption>())
        {
            help.Action = new UsageAction();
        }
    }

    /// <summary>Parses the arguments; the result's errors name the offending option or argument.</summary>
    public ParseResult Parse(IReadOnlyList<string> args) =>
        // No response files: a secret or a path may well start with '@'.
        _root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });

    /// <summary>What is wrong with the command line as a whole (unknown options, missing values); empty when nothing.</summary>
    public IReadOnlyList<string> Errors(ParseResult parsed)
    {
        var errors = parsed.Errors.Select(e => e.Message).ToList();
        foreach ((Setting setting, Option option) in _options)
        {
            // With repeats allowed, "-p 1 -p" satisfies the option's arity; each occurrence still needs its value.
            if (!setting.IsFlag && parsed.GetResult(option) is { } result && result.Tokens.Count > 0 && result.IdentifierTokenCount > result.Tokens.Count)
            {
                errors.Add($"Required argument missing for option: '{setting.ShortName ?? setting.LongName}' (given {result.IdentifierTokenCount} times with {result.Tokens.Count} values).");
            }
        }

        return errors;
    }

    /// <summary>The values given on the command line, by setting (the last of a repeated option); a flag given is "true".</summary>
    public IReadOnlyDictionary<Setting, RawValue> Values(ParseResult parsed)
    {
        var values = new Dictionary<Setting, RawValue>();
        foreach ((Setting setting, Option option) in _options)
        {
            if (parsed.GetResult(option) is not { Implicit: false })
            {
                continue;
            }

            string? text = option is Option<bool> flag
                ? (parsed.GetValue(flag) ? "true" : "false")
                : parsed.GetValue((Option<string[]>)option)?.LastOrDefault();
            values[setting] = new RawValue(text ?? string.Empty, setting.OptionNames);
        }

        return values;
    }

    /// <summary>Writes ppft-style usage text listing every option.</summary>
    public static void WriteUsage(TextWriter writer)
    {
        string version = typeof(ServerCommandLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? "unknown";
        int plus = version.IndexOf('+', StringComparison.Ordinal);
        if (plus >= 0)
        {
            version = version[..plus]; // drop the source revision the SDK appends
        }

        writer.WriteLine($"PPSharp network node, ppft's ppserver (ppserver {version}, protocol {ServerSettings.SupportedProtocol})");
        writer.WriteLine("Usage: ppserver [-hdar] [-f format] [-n proto] [-c config_path] [-i interface] [-b broadcast]");
        writer.WriteLine("                [-p port] [-w nworkers] [-s secret] [-t seconds] [-k seconds] [-P pid_file]");
        writer.WriteLine("                [--metrics-port port] [--metrics-interface interface]");
        writer.WriteLine("                [-o address_file]");
        writer.WriteLine();
        writer.WriteLine("Options:");
        WriteOption(writer, "-h, --help", "this help message");
        foreach (Setting setting in Setting.All)
        {
            string names = (setting.ShortName is null ? setting.LongName : $"{setting.ShortName}, {setting.LongName}") + (setting.IsFlag ? string.Empty : " " + setting.ArgumentName);
            WriteOption(writer, names, setting.Help);
        }

        writer.WriteLine();
        writer.WriteLine("To print the node's statistics send SIGUSR1 to its process (unix only).");
        writer.WriteLine("SIGINT or SIGTERM stops the node: it tells its clients it is leaving, removes the pid file and exits with 0.");
        writer.WriteLine();
        writer.WriteLine($"The secret comes from -s, else the environment variable {ServerSettings.SecretEnvironmentVariable}, else the config file;");
        writer.WriteLine("there is no built-in one. Without a secret the node listens on 127.0.0.1 only. Always use a non-trivial secret.");
        writer.WriteLine();
        writer.WriteLine("Config file (-c), ppft's INI layout; options given on the command line override it:");
        foreach (IGrouping<string?, Setting> section in Setting.All.Where(s => s.Section is not null).GroupBy(s => s.Section))
        {
            writer.WriteLine($"  [{section.Key}] {string.Join(", ", section.Select(s => s.Key))}");
        }

        writer.WriteLine();
        writer.WriteLine("Exit codes: 0 stopped by a signal or the idle timeout, 1 could not run, 2 bad option or config value.");
    }

    private static void WriteOption(TextWriter writer, string names, string help) =>
        writer.WriteLine($"  {names,-30} : {help}");

    /// <summary>Replaces System.CommandLine's help output with <see cref="WriteUsage"/>.</summary>
    private sealed class UsageAction : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            WriteUsage(parseResult.InvocationConfiguration.Output);
            return ExitCodes.Success;
        }
    }
}
