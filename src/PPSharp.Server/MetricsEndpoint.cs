using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using PPSharp.Diagnostics;

namespace PPSharp.Server;

/// <summary>
/// ppserver's HTTP endpoint for operators (<c>--metrics-port</c>): the <c>PPSharp</c> meter in Prometheus' text format
/// at <c>/metrics</c> (OpenTelemetry's exporter), and <c>/healthz</c> for liveness and readiness probes, which answers
/// 200 "ok" while the node takes jobs and 503 once it is stopping. Read-only; on loopback unless told otherwise.
/// </summary>
internal sealed class MetricsEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;

    private MetricsEndpoint(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>The base address it listens on, with the port actually bound (for <c>--metrics-port 0</c>).</summary>
    public Uri Address { get; }

    /// <exception cref="IOException">The port cannot be bound.</exception>
    public static async Task<MetricsEndpoint> StartAsync(IPAddress address, int port, Func<bool> healthy)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders(); // the node logs; the endpoint's own request logging would only be noise
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(address, port));
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(PPSharpMetrics.MeterName)
            .AddPrometheusExporter());
        WebApplication app = builder.Build();
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapGet("/healthz", () => healthy() ? Results.Text("ok\n") : Results.Text("stopping\n", statusCode: StatusCodes.Status503ServiceUnavailable));
        await app.StartAsync().ConfigureAwait(false);

        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new MetricsEndpoint(app, new Uri(bound));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
