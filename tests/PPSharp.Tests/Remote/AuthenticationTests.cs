namespace PPSharp.Tests.Remote;

/// <summary>A client with the wrong secret never uses the node; the node logs it and goes on serving.</summary>
public sealed class AuthenticationTests : RemoteTestBase
{
    [Fact]
    public async Task WrongSecret_KeepsTheNodeUnused_JobsRunLocally_AndTheNodeStillServesARightClient()
    {
        using TestNode node = await StartNodeAsync(debug: true);

        await using (var wrong = new JobServer(1, ppservers: [node.Address], secret: "not-" + Secret))
        {
            // The client connects in the background: the node's log line shows it has tried.
            string line = await node.Process.WaitForErrorLineAsync(
                l => l.Contains("Authentication failed from 127.0.0.1", StringComparison.Ordinal),
                "the failed authentication");
            Assert.Contains("WARNING", line);
            Assert.DoesNotContain(Secret, line);

            var jobs = new[] { 2, 3, 4 }.Select(i => wrong.Submit(Functions.Square, i)).ToList();

            Assert.Equal(new[] { 4, 9, 16 }, await jobs.AllWithin());
            Assert.All(jobs, job => Assert.Equal("local", job.Node));
            Assert.DoesNotContain(node.Address, wrong.GetActiveNodes().Keys);
            Assert.Equal(3, wrong.GetStats()["local"].JobCount);
            Assert.Equal(0, wrong.GetStats().GetValueOrDefault(node.Address)?.JobCount ?? 0);
        }

        await using var right = new JobServer(0, ppservers: [node.Address], secret: Secret);
        Job<double> job = right.Submit(Math.Sqrt, 81.0);

        Assert.Equal(9.0, await job.Within());
        Assert.Equal(node.Address, job.Node);
        Assert.DoesNotContain(Secret, node.Process.StandardError);
    }
}
