using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace PPSharp.Workers;

/// <summary>
/// The command line that starts a worker: the caller's own application, run by the <c>dotnet</c> host with the
/// caller's runtime configuration and dependency list, and PPSharp as a startup hook that takes over before Main.
/// Works the same for a console app, a file-based program (<c>dotnet run app.cs</c>), a test host, or a consumer of
/// the NuGet package: whatever the caller could load, the worker can load.
/// </summary>
internal sealed record WorkerCommand(string FileName, IReadOnlyList<string> Arguments, string HookPath)
{
    /// <summary>
    /// Switches a worker needs on, whatever the application chose for itself: file-based programs (<c>dotnet run
    /// app.cs</c>) default to native-AOT settings, which turn startup hooks and dynamic code off.
    /// </summary>
    private static readonly string[] RequiredSwitches =
    [
        "System.StartupHookProvider.IsSupported",
        "System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported",
    ];

    private static readonly Lazy<WorkerCommand> Current = new(Detect);

    public static WorkerCommand ForThisProcess() => Current.Value;

    /// <summary>
    /// The command with the switches workers need turned on (see <see cref="RequiredSwitches"/>): when the
    /// application's runtime configuration names one of them, a copy of it in <paramref name="directory"/> with them
    /// on (the original file is left untouched); else the command as it is, since both are on by default.
    /// </summary>
    /// <remarks>
    /// Most applications never name them, and then no JSON is parsed on the way to the first worker: parsing and
    /// writing the file with <see cref="JsonNode"/> took 31-42 ms of a cold process's start-up here, before any
    /// worker could start.
    /// </remarks>
    public WorkerCommand WithRuntimeConfigIn(string directory)
    {
        int at = Arguments.ToList().IndexOf("--runtimeconfig") + 1;
        string text = File.ReadAllText(Arguments[at]);
        if (!RequiredSwitches.Any(name => text.Contains(name, StringComparison.Ordinal)))
        {
            return this;
        }

        JsonNode root = JsonNode.Parse(text) ?? new JsonObject();
        JsonObject options = root["runtimeOptions"] as JsonObject ?? (JsonObject)(root["runtimeOptions"] = new JsonObject());
        JsonObject properties = options["configProperties"] as JsonObject ?? (JsonObject)(options["configProperties"] = new JsonObject());
        foreach (string name in RequiredSwitches)
        {
            properties[name] = true;
        }

        string path = Path.Combine(directory, "worker.runtimeconfig.json");
        File.WriteAllText(path, root.ToJsonString());
        var arguments = Arguments.ToArray();
        arguments[at] = path;
        return this with { Arguments = arguments };
    }

    private static WorkerCommand Detect()
    {
        string hook = typeof(WorkerCommand).Assembly.Location;
        Assembly entry = Assembly.GetEntryAssembly()
            ?? throw new InvalidOperationException("PPSharp cannot start worker processes: this process has no entry assembly.");
        if (string.IsNullOrEmpty(entry.Location) || string.IsNullOrEmpty(hook))
        {
            throw new InvalidOperationException(
                "PPSharp cannot start worker processes from a single-file or native AOT application, because workers relaunch the application's assemblies from disk. Run it as a framework-dependent application.");
        }

        // The host joins these lists with ';' on every platform (not Path.PathSeparator).
        string? deps = (AppContext.GetData("APP_CONTEXT_DEPS_FILES") as string)?
            .Split(';', StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(File.Exists);
        string runtimeConfig = deps is not null && deps.EndsWith(".deps.json", StringComparison.OrdinalIgnoreCase)
            ? string.Concat(deps.AsSpan(0, deps.Length - ".deps.json".Length), ".runtimeconfig.json")
            : Path.ChangeExtension(entry.Location, ".runtimeconfig.json");
        if (!File.Exists(runtimeConfig))
        {
            runtimeConfig = Path.ChangeExtension(entry.Location, ".runtimeconfig.json");
        }

        if (!File.Exists(runtimeConfig))
        {
            throw new InvalidOperationException(
                $"PPSharp cannot start worker processes: the runtime configuration '{runtimeConfig}' of the application was not found.");
        }

        var arguments = new List<string> { "exec", "--runtimeconfig", runtimeConfig };
        if (deps is not null)
        {
            arguments.Add("--depsfile");
            arguments.Add(deps);
        }

        foreach (string probe in (AppContext.GetData("PROBING_DIRECTORIES") as string ?? string.Empty)
                     .Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            arguments.Add("--additionalprobingpath");
            arguments.Add(probe);
        }

        arguments.Add(entry.Location);
        return new WorkerCommand(FindHost(), arguments, hook);
    }

    /// <summary>The <c>dotnet</c> host that runs this process: next to the shared runtime this process uses.</summary>
    private static string FindHost()
    {
        string exe = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "dotnet.exe" : "dotnet";
        if (Environment.ProcessPath is { } self && Path.GetFileName(self) == exe)
        {
            return self;
        }

        // <root>/shared/Microsoft.NETCore.App/<version>/ → <root>/dotnet
        string runtime = RuntimeEnvironment.GetRuntimeDirectory();
        string candidate = Path.GetFullPath(Path.Combine(runtime, "..", "..", "..", exe));
        if (File.Exists(candidate))
        {
            return candidate;
        }

        string? root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        return root is not null && File.Exists(Path.Combine(root, exe)) ? Path.Combine(root, exe) : exe;
    }
}
