using PPSharp.Tests.Remote;

namespace PPSharp.Tests.Security;

/// <summary>
/// A local worker's channel is two sockets, one each way; each must open with the worker's Hello and token. Here a
/// node's workers (the test parent's startup hook) say Hello with a wrong token on the socket the node writes jobs
/// to, and with the right one on the socket it reads: the node must refuse them, never send a job down the first.
/// </summary>
public sealed class WorkerChannelImpostorTests : RemoteTestBase
{
    [Fact]
    public async Task AWorkerWhoseFirstSocketSaysAWrongToken_IsRefused_ThoughItsSecondSaysTheRightOne()
    {
        using TestNode node = await StartNodeAsync(environment: new Dictionary<string, string>
        {
            ["DOTNET_STARTUP_HOOKS"] = OrphanWorkerTests.TestParentDll(),
            ["PPSHARP_TEST_WORKERS_WRONG_FIRST_HELLO"] = "1",
        });

        string refused = await node.Process.WaitForErrorLineAsync(l => l.Contains("could not start", StringComparison.Ordinal), "the node refusing its worker");
        Assert.Contains("did not introduce itself: unexpected Hello", refused);

        await using var server = new JobServer(0, ppservers: [node.Address], secret: Secret);
        var error = await Assert.ThrowsAsync<JobFailedException>(() => server.Submit(Functions.Square, 3).Within());
        Assert.Contains("cannot start worker processes", error.Message);
    }
}
