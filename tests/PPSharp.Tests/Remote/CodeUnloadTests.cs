namespace PPSharp.Tests.Remote;

/// <summary>Code shipped to a node is dropped once no connected client uses it: the workers that loaded it are replaced.</summary>
public sealed class CodeUnloadTests : RemoteTestBase
{
    [Fact]
    public async Task NodeReplacesItsWorkers_WhenTheOnlyClientUsingShippedCodeLeaves()
    {
        using TestNode node = await StartNodeAsync(workers: 1, debug: true);
        int before;
        using (var client = new JobServer(0, ppservers: [node.Address], secret: Secret))
        {
            int factor = 3;
            Assert.Equal(21, await client.Submit((int x) => x * factor, 7).AsTask().WaitAsync(Bounds.Hang));
            before = await client.Submit(() => Environment.ProcessId).AsTask().WaitAsync(Bounds.Hang);
        }

        // The client is gone: its code is no longer needed, so the worker that loaded it is replaced. The node must
        // have seen it go before the next client connects: that one ships the same code, which would then still be in
        // use (under load the first departure was sometimes noticed after the second client's upload, and nothing was
        // replaced, rightly).
        await node.Process.WaitForErrorLineAsync(l => l.Contains("no longer used", StringComparison.Ordinal), "the recycling log line");
        using var next = new JobServer(0, ppservers: [node.Address], secret: Secret);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        int after;
        do
        {
            after = await next.Submit(() => Environment.ProcessId).AsTask().WaitAsync(Bounds.Hang);
        }
        while (after == before && watch.Elapsed < Bounds.Hang);

        Assert.NotEqual(before, after);
    }
}
