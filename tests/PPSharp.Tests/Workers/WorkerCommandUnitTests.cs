using System.Text.Json.Nodes;
using PPSharp.Workers;

namespace PPSharp.Tests.Workers;

/// <summary>
/// In memory and in a temporary folder: the worker's runtime configuration is the application's own unless the
/// application turns off a switch workers need, and then a copy with it on.
/// </summary>
public sealed class WorkerCommandUnitTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ppsharp-command-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private WorkerCommand CommandFor(string runtimeConfig)
    {
        string path = Path.Combine(_folder, "app.runtimeconfig.json");
        File.WriteAllText(path, runtimeConfig);
        return new WorkerCommand("dotnet", ["exec", "--runtimeconfig", path, "app.dll"], "PPSharp.dll");
    }

    [Fact]
    public void AnApplicationThatNamesNoRequiredSwitch_KeepsItsOwnRuntimeConfiguration()
    {
        WorkerCommand command = CommandFor("""{ "runtimeOptions": { "tfm": "net10.0", "configProperties": { "System.GC.Server": false } } }""");
        string copies = Path.Combine(_folder, "copies");
        Directory.CreateDirectory(copies);

        WorkerCommand worker = command.WithRuntimeConfigIn(copies);

        Assert.Same(command, worker);
        Assert.Empty(Directory.GetFiles(copies));
    }

    [Fact]
    public void AnApplicationThatTurnsARequiredSwitchOff_GetsACopyWithBothOn_AndItsOwnSettingsKept()
    {
        string original = """{ "runtimeOptions": { "tfm": "net10.0", "configProperties": { "System.StartupHookProvider.IsSupported": false, "System.GC.Server": true } } }""";
        WorkerCommand command = CommandFor(original);
        string copies = Path.Combine(_folder, "copies");
        Directory.CreateDirectory(copies);

        WorkerCommand worker = command.WithRuntimeConfigIn(copies);

        string copy = worker.Arguments[worker.Arguments.ToList().IndexOf("--runtimeconfig") + 1];
        Assert.Equal(copies, Path.GetDirectoryName(copy));
        JsonNode properties = JsonNode.Parse(File.ReadAllText(copy))!["runtimeOptions"]!["configProperties"]!;
        Assert.True((bool)properties["System.StartupHookProvider.IsSupported"]!);
        Assert.True((bool)properties["System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported"]!);
        Assert.True((bool)properties["System.GC.Server"]!);
        Assert.Equal(original, File.ReadAllText(command.Arguments[2])); // the application's file is left as it was
        Assert.Equal(command.Arguments.Where((_, i) => i != 2), worker.Arguments.Where((_, i) => i != 2));
    }
}
