using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace PPSharp.Server;

/// <summary>
/// A Python logging format string (ppft's <c>-f</c>), such as <c>"%(asctime)s %(levelname)-8s %(message)s"</c>,
/// parsed once into literal text and fields. Supports Python's <c>%(field)[flags][width][.precision]type</c>
/// with types s, r, d, i and f, and <c>%%</c> for a percent sign.
/// </summary>
internal sealed partial class LogFormat
{
    /// <summary>ppft's default format.</summary>
    public const string Default = "%(asctime)s - %(name)s - %(levelname)s - %(message)s";

    private static readonly DateTimeOffset ProcessStart = DateTimeOffset.Now;

    private readonly List<Segment> _segments;

    private LogFormat(string text, List<Segment> segments)
    {
        Text = text;
        _segments = segments;
    }

    /// <summary>The format string as given.</summary>
    public string Text { get; }

    /// <summary>The fields Python's logging offers that this formatter supports, and whether each is a number.</summary>
    private static readonly Dictionary<string, bool> Fields = new(StringComparer.Ordinal)
    {
        ["asctime"] = false,
        ["created"] = true,
        ["msecs"] = true,
        ["relativeCreated"] = true,
        ["levelname"] = false,
        ["levelno"] = true,
        ["name"] = false,
        ["message"] = false,
        ["process"] = true,
        ["thread"] = true,
    };

    public static IEnumerable<string> FieldNames => Fields.Keys;

    [GeneratedRegex(@"%(?:(?<percent>%)|\((?<field>[A-Za-z_]+)\)(?<flags>[-#0 +]*)(?<width>\d+)?(?:\.(?<precision>\d+))?(?<type>[srdif]))")]
    private static partial Regex Placeholder();

    /// <summary>Parses a format string.</summary>
    /// <exception cref="FormatException">An unknown field, a stray <c>%</c>, or a number type on a text field; the message says which.</exception>
    public static LogFormat Parse(string text)
    {
        var segments = new List<Segment>();
        int position = 0;
        foreach (Match match in Placeholder().Matches(text))
        {
            CheckNoStrayPercent(text, position, match.Index);
            if (match.Index > position)
            {
                segments.Add(Segment.Literal(text[position..match.Index]));
            }

            position = match.Index + match.Length;
            if (match.Groups["percent"].Success)
            {
                segments.Add(Segment.Literal("%"));
                continue;
            }

            string field = match.Groups["field"].Value;
            if (!Fields.TryGetValue(field, out bool numeric))
            {
                throw new FormatException($"unknown field '%({field})'; known fields: {string.Join(", ", Fields.Keys)}");
            }

            char type = match.Groups["type"].Value[0];
            if (!numeric && type is 'd' or 'i' or 'f')
            {
                throw new FormatException($"'%({field})' is text and cannot be formatted with '{type}'; use %({field})s");
            }

            segments.Add(new Segment(
                null,
                field,
                type,
                match.Groups["flags"].Value.Contains('-', StringComparison.Ordinal),
                match.Groups["width"].Success ? int.Parse(match.Groups["width"].Value, CultureInfo.InvariantCulture) : 0,
                match.Groups["precision"].Success ? int.Parse(match.Groups["precision"].Value, CultureInfo.InvariantCulture) : null));
        }

        CheckNoStrayPercent(text, position, text.Length);
        if (position < text.Length)
        {
            segments.Add(Segment.Literal(text[position..]));
        }

        return new LogFormat(text, segments);
    }

    private static void CheckNoStrayPercent(string text, int from, int to)
    {
        int stray = text.IndexOf('%', from, to - from);
        if (stray >= 0)
        {
            throw new FormatException($"'%' at position {stray + 1} is neither '%%' nor a field such as '%(message)s'");
        }
    }

    /// <summary>Formats one log record.</summary>
    public string Format(DateTimeOffset time, LogLevel level, string category, string message)
    {
        var builder = new StringBuilder();
        foreach (Segment segment in _segments)
        {
            if (segment.Text is not null)
            {
                builder.Append(segment.Text);
                continue;
            }

            object value = segment.Field switch
            {
                // Python's asctime: local time, "2003-07-08 16:49:45,896".
                "asctime" => time.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss,fff", CultureInfo.InvariantCulture),
                "created" => time.ToUnixTimeMilliseconds() / 1000.0,
                "msecs" => (double)time.Millisecond,
                "relativeCreated" => (time - ProcessStart).TotalMilliseconds,
                "levelname" => LevelName(level),
                "levelno" => (double)LevelNumber(level),
                "name" => category,
                "message" => message,
                "process" => (double)Environment.ProcessId,
                "thread" => (double)Environment.CurrentManagedThreadId,
                _ => string.Empty,
            };
            builder.Append(segment.Render(value));
        }

        return builder.ToString();
    }

    /// <summary>Python's level names.</summary>
    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "TRACE",
        LogLevel.Debug => "DEBUG",
        LogLevel.Information => "INFO",
        LogLevel.Warning => "WARNING",
        LogLevel.Error => "ERROR",
        LogLevel.Critical => "CRITICAL",
        _ => "NOTSET",
    };

    /// <summary>Python's level numbers (TRACE, which Python lacks, below DEBUG).</summary>
    private static int LevelNumber(LogLevel level) => level switch
    {
        LogLevel.Trace => 5,
        LogLevel.Debug => 10,
        LogLevel.Information => 20,
        LogLevel.Warning => 30,
        LogLevel.Error => 40,
        LogLevel.Critical => 50,
        _ => 0,
    };

    /// <summary>Literal text (<see cref="Text"/> set) or a field with Python's conversion, width and precision.</summary>
    private sealed record Segment(string? Text, string Field, char Type, bool LeftAlign, int Width, int? Precision)
    {
        public static Segment Literal(string text) => new(text, string.Empty, 's', false, 0, null);

        public string Render(object value)
        {
            string text = (Type, value) switch
            {
                ('d' or 'i', double number) => Math.Truncate(number).ToString("0", CultureInfo.InvariantCulture),
                ('f', double number) => number.ToString("F" + (Precision ?? 6).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture),
                (_, double number) => PythonString(number),
                (_, string s) when Precision is int max && s.Length > max => s[..max], // "%.3s" truncates, as in Python
                (_, string s) => s,
                _ => value.ToString() ?? string.Empty,
            };
            return LeftAlign ? text.PadRight(Width) : text.PadLeft(Width);
        }

        // Python's str() of a float keeps a ".0" on whole numbers; its str() of the process id is an int.
        private string PythonString(double number) =>
            Field is "process" or "thread" or "levelno"
                ? number.ToString("0", CultureInfo.InvariantCulture)
                : number.ToString(number == Math.Floor(number) ? "0.0" : "R", CultureInfo.InvariantCulture);
    }
}
