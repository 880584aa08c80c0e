using System.Security.Cryptography;
using System.Text.RegularExpressions;
using PPSharp.Tests.Server;

namespace PPSharp.Tests.Remote;

/// <summary>
/// The node's assembly cache (<c>$XDG_CACHE_HOME/ppsharp</c>): code is uploaded once, stored on disk under its
/// SHA-256, and reused by a second client and by a new node process after a restart.
/// </summary>
public sealed partial class AssemblyCacheTests : RemoteTestBase
{
    [GeneratedRegex(@"Received assembly (?<sha>[0-9a-fA-F]{64}) \((?<bytes>\d+) bytes\) from (?<peer>127\.0\.0\.1:\d+)")]
    private static partial Regex ReceivedLine();

    [GeneratedRegex(@"^[0-9a-f]{64}\.dll$")]
    private static partial Regex CachedName();

    private static async Task RunJobsAsync(TestNode node, string secret)
    {
        await using var server = new JobServer(0, ppservers: [node.Address], secret: secret);
        int offset = 7;
        Job<int> closure = server.Submit((int x) => x + offset, 35);
        Job<int> square = server.Submit(Functions.Square, 12);

        Assert.Equal(42, await closure.Within());
        Assert.Equal(144, await square.Within());
        Assert.Equal(node.Address, closure.Node);
        Assert.Equal(node.Address, square.Node);
    }

    private static async Task<string> StopAsync(TestNode node)
    {
        node.Process.Signal(PpServerProcess.SIGTERM);
        Assert.Equal(0, await node.Process.WaitForExitAsync()); // all of its log has been read
        return node.Process.StandardError;
    }

    [Fact]
    public async Task UploadedAssemblies_AreCachedBySha256_AndReusedByASecondClientAndByARestartedNode()
    {
        // First node process, empty cache: the first client uploads its code, a second client with the same code uploads nothing.
        string firstLog;
        using (TestNode first = await StartNodeAsync(debug: true))
        {
            await RunJobsAsync(first, Secret);
            await RunJobsAsync(first, Secret);
            firstLog = await StopAsync(first);
        }

        Match[] received = [.. ReceivedLine().Matches(firstLog).Cast<Match>()];
        Assert.NotEmpty(received);
        Assert.Single(received.Select(m => m.Groups["peer"].Value).Distinct()); // all from the first client
        Assert.Equal(received.Length, received.Select(m => m.Groups["sha"].Value.ToLowerInvariant()).Distinct().Count()); // each once

        // The cache on disk: one file per upload, named by the SHA-256 of its content.
        string cacheRoot = Path.Combine(CacheHome, "ppsharp");
        string[] cached = Directory.GetFiles(cacheRoot, "*.dll", SearchOption.AllDirectories);
        Assert.Equal(
            received.Select(m => m.Groups["sha"].Value.ToLowerInvariant() + ".dll").Order(StringComparer.Ordinal),
            cached.Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (string file in cached)
        {
            Assert.Matches(CachedName(), Path.GetFileName(file));
            string content = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(file)));
            Assert.Equal(Path.GetFileNameWithoutExtension(file), content);
        }

        // A new node process on the same cache folder: a new client's jobs run, and nothing is uploaded.
        using TestNode second = await StartNodeAsync(debug: true);
        await RunJobsAsync(second, Secret);
        string secondLog = await StopAsync(second);

        Assert.Contains("Client 127.0.0.1:", secondLog); // Information lines are logged (-d)...
        Assert.DoesNotContain("Received assembly", secondLog); // ...and none is an upload
        Assert.Equal(cached.Length, Directory.GetFiles(cacheRoot, "*.dll", SearchOption.AllDirectories).Length);
    }
}
