using System.Net;
using System.Text.Json;
using PPSharp.Tests.Remote;

namespace PPSharp.Dashboard.Tests;

/// <summary>The dashboard's web server over real HTTP on loopback, following real worker processes.</summary>
public sealed class DashboardTests
{
    private const string Secret = "dashboard-test-secret-not-for-display";

    [Fact]
    public async Task Dashboard_StreamsCountsTasksAndFailures_OfAKnownRun_OnLoopback()
    {
        using var server = new JobServer(2, secret: Secret);
        await using JobServerDashboard dashboard = server.StartDashboard(port: 0);
        using var http = new HttpClient { Timeout = Bounds.Hang };
        await using DashboardEvents events = await DashboardEvents.OpenAsync(http, dashboard.Url);

        Job<double>[] jobs = [.. new[] { 1, 2, 0, 4, 0 }.Select(b => server.Submit(Jobs.Ratio, 8, b))];
        await Task.WhenAll(jobs.Select(j => Task.WhenAny(j.AsTask()))).WaitAsync(Bounds.Hang);

        var tasks = new List<JsonElement>();
        (JsonElement message, string raw) = await events.ReadUntilAsync(m =>
        {
            tasks.AddRange(m.GetProperty("tasks").EnumerateArray());
            JsonElement state = m.GetProperty("state");
            return state.GetProperty("completed").GetInt64() == 3 && state.GetProperty("failed").GetInt64() == 2 && tasks.Count == 5;
        });

        Assert.Equal("127.0.0.1", dashboard.Url.Host);
        Assert.Equal("text/event-stream", events.ContentType);
        JsonElement state = message.GetProperty("state");
        Assert.Equal(5, state.GetProperty("submitted").GetInt64());
        Assert.Equal(2, tasks.Count(t => t.GetProperty("failed").GetBoolean()));
        Assert.All(tasks, t => Assert.Equal("Jobs.Ratio", t.GetProperty("function").GetString()));
        Assert.All(tasks, t => Assert.StartsWith("local pid ", t.GetProperty("lane").GetString(), StringComparison.Ordinal));
        JsonElement[] failures = [.. state.GetProperty("failures").EnumerateArray()];
        Assert.Equal(2, failures.Length);
        Assert.All(failures, f => Assert.Equal(typeof(DivideByZeroException).FullName, f.GetProperty("type").GetString()));
        Assert.All(failures, f => Assert.Contains("Ratio", f.GetProperty("stackTrace").GetString(), StringComparison.Ordinal));
        Assert.Contains("Job execution statistics:", state.GetProperty("stats").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dashboard_ShowsAPpserverNodeWithItsWorkers_AndItsJobsOnTheNodesLanes()
    {
        string cacheHome = Directory.CreateTempSubdirectory("ppsharp-dashboard-").FullName;
        using var removeCache = new TemporaryFolder(cacheHome);
        using TestNode node = await TestNode.StartAsync(Secret, cacheHome, workers: 2);
        string name = node.Address;
        using var server = new JobServer(0, ppservers: [name], secret: Secret);
        await using JobServerDashboard dashboard = server.StartDashboard(port: 0);
        using var http = new HttpClient { Timeout = Bounds.Hang };
        await using DashboardEvents events = await DashboardEvents.OpenAsync(http, dashboard.Url);

        await Enumerable.Range(0, 4).Select(_ => server.Submit(Jobs.Crunch, 20)).AllWithin();

        var tasks = new List<JsonElement>();
        (JsonElement message, string raw) = await events.ReadUntilAsync(m =>
        {
            tasks.AddRange(m.GetProperty("tasks").EnumerateArray());
            return m.GetProperty("state").GetProperty("completed").GetInt64() == 4 && tasks.Count == 4;
        });

        JsonElement state = message.GetProperty("state");
        Assert.Equal([name], state.GetProperty("nodes").EnumerateArray().Select(n => n.GetString()));
        JsonElement row = Assert.Single(state.GetProperty("workers").EnumerateArray());
        Assert.Equal(name, row.GetProperty("node").GetString());
        Assert.Equal(2, row.GetProperty("capacity").GetInt32());
        Assert.Equal(2, state.GetProperty("workerCount").GetInt32());
        Assert.All(tasks, t => Assert.StartsWith($"{name} #", t.GetProperty("lane").GetString(), StringComparison.Ordinal));
        Assert.DoesNotContain(Secret, raw, StringComparison.Ordinal);

        // The node's two workers, from its answers to the heartbeat: their pids there and resident memory at once,
        // their CPU use once two answers have come (the client pings every few seconds).
        (message, _) = await events.ReadUntilAsync(m =>
            m.GetProperty("state").GetProperty("workers")[0] is var r && r.TryGetProperty("nodeWorkers", out JsonElement w) && w.ValueKind == JsonValueKind.Array
            && w.GetArrayLength() == 2 && w.EnumerateArray().All(x => x.GetProperty("cpu").ValueKind == JsonValueKind.Number));
        row = message.GetProperty("state").GetProperty("workers")[0];
        JsonElement[] nodeWorkers = [.. row.GetProperty("nodeWorkers").EnumerateArray()];
        Assert.Equal(node.WorkerPids().Order(), nodeWorkers.Select(w => w.GetProperty("pid").GetInt32()).Order());
        Assert.All(nodeWorkers, w => Assert.True(w.GetProperty("rss").GetInt64() > 1024 * 1024));
        Assert.All(nodeWorkers, w => Assert.InRange(w.GetProperty("cpu").GetDouble(), 0, 100 * Environment.ProcessorCount));
        Assert.Equal(nodeWorkers.Sum(w => w.GetProperty("rss").GetInt64()), row.GetProperty("rss").GetInt64());
        Assert.Equal(2, row.GetProperty("nodeWorkerCount").GetInt32());
    }

    [Fact]
    public async Task Dashboard_ServesItsPageAndChartLibraryItself_AndOnlyReads()
    {
        using var server = new JobServer(0, secret: Secret);
        await using JobServerDashboard dashboard = server.StartDashboard(port: 0);
        using var http = new HttpClient { Timeout = Bounds.Hang };

        string page = await http.GetStringAsync(dashboard.Url);
        Assert.Contains("assets/uplot/uPlot.iife.min.js", page, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", page, StringComparison.Ordinal); // nothing from a CDN
        Assert.DoesNotContain("https://", page, StringComparison.Ordinal);
        foreach (string asset in new[] { "assets/dashboard.js", "assets/dashboard.css", "assets/uplot/uPlot.iife.min.js", "assets/uplot/uPlot.min.css", "assets/uplot/LICENSE" })
        {
            using HttpResponseMessage response = await http.GetAsync(new Uri(dashboard.Url, asset));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{asset}: {response.StatusCode}");
        }

        using HttpResponseMessage post = await http.PostAsync(dashboard.Url, new StringContent("x"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        using HttpResponseMessage missing = await http.GetAsync(new Uri(dashboard.Url, "assets/../../etc/passwd"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.DoesNotContain(Secret, await http.GetStringAsync(new Uri(dashboard.Url, "api/state")), StringComparison.Ordinal);
    }
}

/// <summary>Deletes a folder the test made (a node's cache home) when disposed.</summary>
internal sealed class TemporaryFolder(string path) : IDisposable
{
    public void Dispose()
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
