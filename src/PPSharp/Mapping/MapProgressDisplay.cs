using System.Diagnostics;
using System.Globalization;

namespace PPSharp.Mapping;

/// <summary>
/// A one-line progress bar for a map, redrawn in place on a terminal: done/total, rate, time left, failures. Quiet when
/// the error stream is not a terminal (redirected to a file or a pipe), so logs never fill with bars.
/// </summary>
internal sealed class MapProgressDisplay : IDisposable
{
    private const int BarWidth = 30;

    /// <summary>Redraws at most this often: drawing must not cost more than the work it reports.</summary>
    private static readonly long RedrawTicks = Stopwatch.Frequency / 10;

    private readonly TextWriter _writer;
    private readonly int? _total;
    private readonly long _started = Stopwatch.GetTimestamp();
    private long _lastDrawn;
    private int _done;
    private int _failed;

    internal MapProgressDisplay(TextWriter writer, int? total)
    {
        _writer = writer;
        _total = total;
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

    public void Advance(int items, int failed)
    {
        _done += items;
        _failed += failed;
        long now = Stopwatch.GetTimestamp();
        if (now - _lastDrawn >= RedrawTicks || _done == _total)
        {
            Draw();
        }
    }

    /// <summary>The line as it stands, without the carriage return.</summary>
    internal string Line()
    {
        double seconds = Math.Max(1e-9, Stopwatch.GetElapsedTime(_started).TotalSeconds);
        double rate = _done / seconds;
        var line = new System.Text.StringBuilder();
        if (_total is { } total && total > 0)
        {
            int filled = (int)((long)BarWidth * Math.Min(_done, total) / total);
            line.Append('[').Append('#', filled).Append('.', BarWidth - filled).Append("] ");
            line.Append(CultureInfo.InvariantCulture, $"{_done}/{total}");
            string left = rate > 0 && _done < total ? Duration((total - _done) / rate) : "0s";
            line.Append(CultureInfo.InvariantCulture, $"  {rate:0.#}/s  {left} left");
        }
        else
        {
            line.Append(CultureInfo.InvariantCulture, $"{_done} done  {rate:0.#}/s");
        }

        if (_failed > 0)
        {
            line.Append(CultureInfo.InvariantCulture, $"  {_failed} failed");
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
