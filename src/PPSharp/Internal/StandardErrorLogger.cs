using Microsoft.Extensions.Logging;

namespace PPSharp.Internal;

/// <summary>
/// The logger a job server uses when the program configured none, as Python's logging does for ppft: warnings and
/// errors are written to standard error, one line each ("PPSharp warning: ..."), and nothing below Warning. Lines of
/// one kind (one event id) are rate-limited: at most <see cref="Burst"/> per <see cref="Window"/>; the next line
/// after a quiet spell says how many were left out. A <c>LoggerFactory</c> given in the options replaces it entirely.
/// </summary>
internal sealed class StandardErrorLoggerFactory : ILoggerFactory
{
    /// <summary>Lines of one kind written at most per <see cref="Window"/>.</summary>
    public const int Burst = 3;

    /// <summary>The rate-limiting window: 10 seconds.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    public static readonly StandardErrorLoggerFactory Instance = new();

    private readonly Lock _gate = new();
    private readonly Dictionary<int, (long WindowStart, int Written, int Dropped)> _kinds = [];

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("Pass your own ILoggerFactory in JobServerOptions.LoggerFactory instead.");

    public void Dispose()
    {
    }

    /// <summary>Whether a line of this kind may be written now; <paramref name="dropped"/> counts those left out since the last one.</summary>
    private bool Admit(int kind, out int dropped)
    {
        long now = Environment.TickCount64;
        lock (_gate)
        {
            (long start, int written, int droppedSoFar) = _kinds.GetValueOrDefault(kind, (now, 0, 0));
            if (now - start >= Window.TotalMilliseconds)
            {
                (start, written) = (now, 0);
            }

            if (written >= Burst)
            {
                _kinds[kind] = (start, written, droppedSoFar + 1);
                dropped = 0;
                return false;
            }

            _kinds[kind] = (start, written + 1, 0);
            dropped = droppedSoFar;
            return true;
        }
    }

    private sealed class Logger(StandardErrorLoggerFactory owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel) || !owner.Admit(eventId.Id, out int dropped))
            {
                return;
            }

            string level = logLevel == LogLevel.Warning ? "warning" : "error";
            string text = formatter(state, exception).ReplaceLineEndings(" ");
            string cause = exception is null ? string.Empty : $" ({exception.GetType().Name}: {exception.Message.ReplaceLineEndings(" ")})";
            string more = dropped == 0 ? string.Empty : $" [{dropped} similar lines left out]";
            Console.Error.WriteLine($"PPSharp {level}: {text}{cause}{more}");
        }
    }
}
