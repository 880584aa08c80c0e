using System.Text.Json;

namespace PPSharp.Dashboard.Tests;

/// <summary>Reads the dashboard's Server-Sent Events as JSON messages.</summary>
public sealed class DashboardEvents : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private DashboardEvents(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    public string ContentType => _response.Content.Headers.ContentType?.MediaType ?? string.Empty;

    public static async Task<DashboardEvents> OpenAsync(HttpClient http, Uri dashboard)
    {
        HttpResponseMessage response = await http.GetAsync(new Uri(dashboard, "events"), HttpCompletionOption.ResponseHeadersRead).WaitAsync(Bounds.Hang);
        return new DashboardEvents(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
    }

    /// <summary>Reads messages until one satisfies <paramref name="match"/> (bounded), and returns it with its raw text.</summary>
    public async Task<(JsonElement Message, string Raw)> ReadUntilAsync(Func<JsonElement, bool> match)
    {
        using var bound = new CancellationTokenSource(Bounds.Hang);
        string? last = null;
        try
        {
            while (await _reader.ReadLineAsync(bound.Token) is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    continue;
                }

                last = line["data: ".Length..];
                JsonElement message = JsonDocument.Parse(last).RootElement;
                if (match(message))
                {
                    return (message, last);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        Assert.Fail($"No dashboard message matched within {Bounds.Hang}; the last one was:\n{last}");
        return default;
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
