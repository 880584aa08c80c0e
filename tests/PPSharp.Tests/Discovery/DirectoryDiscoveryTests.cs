using System.Globalization;
using PPSharp.Tests.Remote;
using PPSharp.Tests.Server;

namespace PPSharp.Tests.Discovery;

/// <summary>
/// <c>dir:PATH</c> discovery with real <c>ppserver</c> processes: a node started with <c>-o FILE</c> writes its address
/// once it listens and removes it when it stops; a job server watching the directory takes it in, uses it, and drops
/// it when it goes. This is how Slurm nodes are found (<c>PPSharp.Slurm</c>), tested here without Slurm.
/// </summary>
public sealed class DirectoryDiscoveryTests : RemoteTestBase
{
    private string NodesDirectory => Path.Combine(Folder, "nodes");

    private PpServerProcess StartNode(string file) => PpServerProcess.Start(
        ["-p", "0", "-i", "127.0.0.1", "-w", "1", "-o", Path.Combine(NodesDirectory, file)],
        new Dictionary<string, string> { ["PPSHARP_SECRET"] = Secret, ["XDG_CACHE_HOME"] = CacheHome });

    [Fact]
    public async Task AddressFile_HoldsTheListeningAddress_AndIsRemovedWhenTheNodeStops()
    {
        Directory.CreateDirectory(NodesDirectory);
        using PpServerProcess node = StartNode("1001");
        int port = await node.WaitForListeningAsync();
        string file = Path.Combine(NodesDirectory, "1001");

        Assert.Equal($"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}\n", await File.ReadAllTextAsync(file));

        node.Signal(PpServerProcess.SIGTERM);
        Assert.Equal(0, await node.WaitForExitAsync());
        Assert.False(File.Exists(file));
        Assert.Empty(Directory.GetFiles(NodesDirectory)); // no temporary file left either
    }

    [Fact]
    public async Task AddressFileInAMissingDirectory_FailsTheNodeWithAClearMessage()
    {
        using PpServerProcess node = StartNode("no/such/dir/1002");

        int exitCode = await node.WaitForExitAsync();

        Assert.NotEqual(0, exitCode);
        Assert.Contains("cannot write address file", node.StandardError);
    }

    [Fact]
    public async Task JobServer_TakesInNodesAsTheirFilesAppear_UsesThem_AndDropsThemWhenTheyStop()
    {
        // The directory does not exist yet when the job server starts watching it, as before a cluster's first job runs.
        await using var server = new JobServer(0, ppservers: [$"dir:{NodesDirectory}"], secret: Secret);
        Directory.CreateDirectory(NodesDirectory);
        using PpServerProcess first = StartNode("2001");
        using PpServerProcess second = StartNode("2002");
        string[] nodes = [$"127.0.0.1:{await first.WaitForListeningAsync()}", $"127.0.0.1:{await second.WaitForListeningAsync()}"];

        await WaitForNodesAsync(server, nodes);
        var jobs = Enumerable.Range(0, 20).Select(i => server.Submit(Square, i)).ToList();
        Assert.Equal(Enumerable.Range(0, 20).Select(i => i * i), await jobs.AllWithin());
        Assert.All(jobs, j => Assert.Contains(j.Node, nodes));

        first.Signal(PpServerProcess.SIGTERM);
        Assert.Equal(0, await first.WaitForExitAsync());
        await WaitForNodesAsync(server, [nodes[1]]);
        Assert.Equal(49, await server.Submit(Square, 7).Within());
    }

    [Fact]
    public void JobServer_RefusesAnEmptyDirectoryEntry()
    {
        var error = Assert.Throws<ArgumentException>(() => new JobServer(0, ppservers: ["dir:"]));
        Assert.Contains("dir:PATH", error.Message);
    }

    public static int Square(int x) => x * x;

    private static async Task WaitForNodesAsync(JobServer server, string[] expected)
    {
        var watch = Stopwatch.StartNew();
        while (!server.GetActiveNodes().Keys.Where(k => k != "local").Order().SequenceEqual(expected.Order()))
        {
            Assert.True(watch.Elapsed < Bounds.Hang, $"the job server has {string.Join(", ", server.GetActiveNodes().Keys)}, not {string.Join(", ", expected)}");
            await Task.Delay(50);
        }
    }
}
