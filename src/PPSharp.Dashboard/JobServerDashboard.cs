using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PPSharp.Dashboard;

namespace PPSharp;

/// <summary>
/// A live, read-only web page about one <see cref="JobServer"/>: the jobs queued, sent ahead and running (as
/// <see cref="JobServer.GetJobs"/> counts them), its workers and nodes (busy or idle, the job each runs, the resident
/// memory and CPU of each worker process, a node's as the node reports them), queue length and throughput over the
/// last minutes, a task stream (a bar per job on each worker, coloured by function, failures in red), recent failures
/// with their remote stack traces, and <see cref="JobServer.PrintStats()"/>'s table. The page updates itself by Server-Sent Events; its scripts and chart
/// library are served from this assembly, so it works offline.
/// </summary>
/// <remarks>
/// Start it with <c>using var dashboard = server.StartDashboard();</c> and open <see cref="Url"/>. It listens on
/// 127.0.0.1 unless given another address, serves only GET requests, and never shows the server's secret. It sees the
/// jobs submitted after it started. Disposing it stops the web server (the job server goes on). Thread-safe.
/// </remarks>
public sealed class JobServerDashboard : IDisposable, IAsyncDisposable
{
    /// <summary>The default port, the one Dask's dashboard uses.</summary>
    public const int DefaultPort = 8787;

    private readonly WebApplication _app;
    private readonly DashboardCollector _collector;
    private readonly CancellationTokenSource _stopping = new();
    private int _disposed;

    private JobServerDashboard(WebApplication app, DashboardCollector collector)
    {
        _app = app;
        _collector = collector;
    }

    /// <summary>The page's address, with the port actually bound (useful with port 0).</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Starts serving the dashboard of <paramref name="server"/>.</summary>
    /// <param name="server">The job server to show.</param>
    /// <param name="port">The TCP port; 0 picks a free one (see <see cref="Url"/>).</param>
    /// <param name="address">Where to listen; 127.0.0.1 when null. Anything else exposes job names and errors to that network.</param>
    /// <returns>The running dashboard; dispose it to stop it.</returns>
    /// <exception cref="IOException">The port cannot be bound (in use, say).</exception>
    public static JobServerDashboard Start(JobServer server, int port = DefaultPort, IPAddress? address = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(address ?? IPAddress.Loopback, port));
        WebApplication app = builder.Build();
        var collector = new DashboardCollector(server);
        var dashboard = new JobServerDashboard(app, collector);
        dashboard.Map(app);
        try
        {
            app.StartAsync().GetAwaiter().GetResult();
        }
        catch
        {
            collector.Dispose();
            throw;
        }

        dashboard.Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
        return dashboard;
    }

    /// <summary>Stops the web server; open pages stop updating.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc cref="Dispose"/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _collector.Dispose();
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private void Map(WebApplication app)
    {
        app.MapGet("/", () => Asset("index.html"));
        app.MapGet("/assets/{**path}", (string path) => Asset(path));
        app.MapGet("/api/state", () => Results.Text(_collector.State, "application/json"));
        app.MapGet("/events", StreamAsync);
    }

    /// <summary>
    /// Server-Sent Events: one message per sample, carrying the state and the tasks finished since the last message;
    /// the first one also carries the history of the charts.
    /// </summary>
    private async Task StreamAsync(HttpContext context)
    {
        HttpResponse response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        long sequence = 0;
        bool first = true;
        try
        {
            while (!ended.IsCancellationRequested)
            {
                (IReadOnlyList<TaskBar> tasks, long latest) = _collector.TasksAfter(sequence);
                sequence = latest;
                string message = "{\"state\":" + _collector.State
                    + ",\"tasks\":" + System.Text.Json.JsonSerializer.Serialize(tasks, Json.Options)
                    + (first ? ",\"history\":" + System.Text.Json.JsonSerializer.Serialize(_collector.History(), Json.Options) : string.Empty)
                    + "}";
                first = false;
                await response.WriteAsync("data: " + message + "\n\n", ended.Token).ConfigureAwait(false);
                await response.Body.FlushAsync(ended.Token).ConfigureAwait(false);
                await _collector.NextSample.WaitAsync(ended.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ended.IsCancellationRequested)
        {
            // The page was closed, or the dashboard is stopping.
        }
    }

    private static IResult Asset(string path)
    {
        Stream? content = typeof(JobServerDashboard).Assembly.GetManifestResourceStream("wwwroot/" + path);
        if (content is null)
        {
            return Results.NotFound();
        }

        string type = Path.GetExtension(path) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            _ => "text/plain; charset=utf-8",
        };
        return Results.Stream(content, type);
    }
}

/// <summary>Starts a <see cref="JobServerDashboard"/> in one line.</summary>
public static class JobServerDashboardExtensions
{
    /// <summary>Serves the live dashboard of this server: <c>using var dashboard = server.StartDashboard();</c>, then open <see cref="JobServerDashboard.Url"/>.</summary>
    /// <param name="server">The job server to show.</param>
    /// <param name="port">The TCP port (8787 by default, as Dask's); 0 picks a free one.</param>
    /// <param name="address">Where to listen; 127.0.0.1 when null.</param>
    /// <returns>The running dashboard; dispose it to stop it.</returns>
    /// <exception cref="IOException">The port cannot be bound (in use, say).</exception>
    public static JobServerDashboard StartDashboard(this JobServer server, int port = JobServerDashboard.DefaultPort, IPAddress? address = null) =>
        JobServerDashboard.Start(server, port, address);
}
