using System.Diagnostics;
using System.Globalization;

namespace PPSharp.Mapping;

/// <summary>
/// A one-line progress bar for a map, redrawn in place on a terminal: done/total, rate, time left, failures. Quiet when
/// the error stream is not a terminal (redirected to a file or a pipe), so logs never fill with bars.
/// </summary>
internal sealed class MapProgressDisplay : IProgress<MapProgress>, IDisposable
{
    private const int BarWidth = 30;

    /// <summary>Redraws at most this often: drawing must not cost more than the work it reports.</summary>
    private static readonly long RedrawTicks = Stopwatch.Frequency / 10;

    private readonly TextWriter _writer;
    private long _lastDrawn;
    private MapProgress _last;

    internal MapProgressDisplay(TextWriter writer, int? total)
    {
        _writer = writer;
        _last = new MapProgress(0, total, 0, TimeSpan.Zero);
        Draw();
    }

    /// <summary>For tests: where bars go instead of the console, and whether to treat it as a terminal.</summary>
    internal static (TextWriter Writer, bool IsTerminal)? OutputOverride { get; set; }

    /// <summary>A display on the console's error stream, or null when that is not a terminal.</summary>
    public static MapProgressDisplay? ForConsole(int? total)
    {
        (TextWriter writer, bool terminal) = OutputOverride ?? (Console.Error, !Console.IsErrorRedirected);
        return terminal ? new MapProgressDisplay(writer, total) : null;
    }

    public void Report(MapProgress value)
    {
        _last = value;
        if (Stopwatch.GetTimestamp() - _lastDrawn >= RedrawTicks || value.Done == value.Total)
        {
            Draw();
        }
    }

    /// <summary>The line as it stands, without the carriage return.</summary>
    internal string Line()
    {
        MapProgress p = _last;
        var line = new System.Text.StringBuilder();
        if (p.Total is { } total && total > 0)
        {
            int filled = (int)((long)BarWidth * Math.Min(p.Done, total) / total);
            line.Append('[').Append('#', filled).Append('.', BarWidth - filled).Append("] ");
            line.Append(CultureInfo.InvariantCulture, $"{p.Done}/{total}");
            string left = p.Remaining is { } remaining ? Duration(remaining.TotalSeconds) : "?";
            line.Append(CultureInfo.InvariantCulture, $"  {p.Rate:0.#}/s  {left} left");
        }
        else
        {
            line.Append(CultureInfo.InvariantCulture, $"{p.Done} done  {p.Rate:0.#}/s");
        }

        if (p.Failed > 0)
        {
            line.Append(CultureInfo.InvariantCulture, $"  {p.Failed} failed");
        }

        return line.ToString();
    }

    private void Draw()
    {
        _lastDrawn = Stopwatch.GetTimestamp();
        _writer.Write("\r" + Line() + "\u001b[K"); // back to the line's start, then clear what a longer line left
        _writer.Flush();
    }

    private static string Duration(double seconds) => seconds switch
    {
        < 60 => $"{Math.Ceiling(seconds).ToString(CultureInfo.InvariantCulture)}s",
        < 3600 => $"{(int)(seconds / 60)}m{(int)(seconds % 60):00}s",
        _ => $"{(int)(seconds / 3600)}h{(int)(seconds % 3600 / 60):00}m",
    };

    public void Dispose()
    {
        Draw();
        _writer.WriteLine();
        _writer.Flush();
    }
}
