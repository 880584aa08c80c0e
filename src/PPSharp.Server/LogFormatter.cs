using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace PPSharp.Server;

/// <summary>Options of <see cref="LogFormatter"/>: the parsed <c>-f</c> format.</summary>
internal sealed class LogFormatterOptions : ConsoleFormatterOptions
{
    public LogFormat Format { get; set; } = LogFormat.Parse(LogFormat.Default);
}

/// <summary>
/// A console log formatter that writes each record as ppft's <c>logging.Formatter</c> would, one line per record
/// (an exception's text follows on the next lines, as Python prints a traceback).
/// </summary>
internal sealed class LogFormatter : ConsoleFormatter
{
    public const string FormatterName = "ppft";

    private readonly IOptionsMonitor<LogFormatterOptions> _options;

    public LogFormatter(IOptionsMonitor<LogFormatterOptions> options)
        : base(FormatterName)
    {
        _options = options;
    }

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        string? message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null)
        {
            return;
        }

        textWriter.WriteLine(_options.CurrentValue.Format.Format(DateTimeOffset.Now, logEntry.LogLevel, logEntry.Category, message ?? string.Empty));
        if (logEntry.Exception is not null)
        {
            textWriter.WriteLine(logEntry.Exception.ToString());
        }
    }
}
