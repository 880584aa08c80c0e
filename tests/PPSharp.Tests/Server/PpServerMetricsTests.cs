using System.Net;
using System.Text.RegularExpressions;

namespace PPSharp.Tests.Server;

/// <summary>ppserver's <c>--metrics-port</c>: Prometheus text at /metrics and a health probe at /healthz, over real HTTP.</summary>
public sealed class PpServerMetricsTests
{
    private const string Secret = "metrics-secret";

    private static async Task<Uri> MetricsAddressAsync(PpServerProcess server)
    {
        string line = await server.WaitForOutputLineAsync(l => l.StartsWith("ppserver metrics on ", StringComparison.Ordinal), "the 'ppserver metrics on' line");
        return new Uri(line["ppserver metrics on ".Length..]);
    }

    [Fact]
    public async Task MetricsPort_ServesPrometheusTextAndHealth_OnLoopback_CountingTheNodesJobs()
    {
        using PpServerProcess node = PpServerProcess.Start(["-p", "0", "-i", "127.0.0.1", "-w", "1", "-s", Secret, "--metrics-port", "0"]);
        int port = await node.WaitForListeningAsync();
        Uri metrics = await MetricsAddressAsync(node);
        Assert.Equal("127.0.0.1", metrics.Host);

        using (var server = new JobServer(0, ppservers: [$"127.0.0.1:{port}"], secret: Secret))
        {
            await Enumerable.Range(0, 3).Select(i => server.Submit(Functions.SumPrimes, 100 + i)).AllWithin();
        }

        using var http = new HttpClient { Timeout = Bounds.Hang };
        using HttpResponseMessage health = await http.GetAsync(new Uri(metrics, "/healthz"));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("ok", (await health.Content.ReadAsStringAsync()).Trim());

        using HttpResponseMessage scrape = await http.GetAsync(new Uri(metrics, "/metrics"));
        string text = await scrape.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.StartsWith("text/plain", scrape.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        Assert.Matches(new Regex(@"^# TYPE ppsharp_jobs_completed_total counter$", RegexOptions.Multiline), text);
        Assert.Matches(new Regex(@"^ppsharp_jobs_submitted_total(\{[^}]*\})? 3( |$)", RegexOptions.Multiline), text);
        Assert.Matches(new Regex(@"^ppsharp_jobs_completed_total\{[^}]*ppsharp_node=""local""[^}]*\} 3( |$)", RegexOptions.Multiline), text);
        Assert.Matches(new Regex(@"^ppsharp_job_duration_seconds_count\{[^}]*\} 3( |$)", RegexOptions.Multiline), text);
    }

    [Fact]
    public async Task MetricsPort_InConfigFile_IsUsed()
    {
        string folder = Directory.CreateTempSubdirectory("ppserver-metrics-").FullName;
        try
        {
            string config = Path.Combine(folder, "ppserver.ini");
            await File.WriteAllTextAsync(config, "[network]\nmetrics_port = 0\n");
            using PpServerProcess node = PpServerProcess.Start(["-p", "0", "-i", "127.0.0.1", "-w", "1", "-c", config]);
            await node.WaitForListeningAsync();
            Uri metrics = await MetricsAddressAsync(node);

            using var http = new HttpClient { Timeout = Bounds.Hang };
            Assert.Equal("ok", (await http.GetStringAsync(new Uri(metrics, "/healthz"))).Trim());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
