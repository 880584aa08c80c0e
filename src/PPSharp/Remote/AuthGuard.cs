using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;
using PPSharp.Internal;

namespace PPSharp.Remote;

/// <summary>
/// What a node keeps about authentication across connections: its salt and derived key (computed once, in the
/// background, when the node starts), the slowing-down of addresses that keep failing, and the rate limit on the log
/// lines those failures cause. Thread-safe.
/// </summary>
/// <remarks>
/// Slowing down: each failed handshake from an address doubles the wait before that address's next proof is
/// answered, from <see cref="FirstDelay"/> up to <see cref="MaxDelay"/>; answers to one address are spaced by that
/// wait however many connections it opens at once, so one address gets at most one answer per
/// <see cref="MaxDelay"/> once it has failed a few times. A success, or <see cref="ForgetAfter"/> without failure,
/// clears the address. Logging: the first failure of each <see cref="LogInterval"/> is logged as it happens; the rest
/// of that interval are counted and logged as one summary line at its end.
/// </remarks>
internal sealed class AuthGuard : IDisposable
{
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(50);
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan ForgetAfter = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);

    /// <summary>Addresses remembered at most; past it, those whose failures are oldest are forgotten first.</summary>
    private const int MaxAddresses = 4096;

    private readonly ILogger _logger;
    private readonly Dictionary<IPAddress, Failures> _failures = [];
    private readonly Lock _logGate = new();
    private readonly Timer _summaryTimer;
    private long _intervalStart = long.MinValue;
    private int _suppressed;
    private readonly HashSet<IPAddress> _suppressedFrom = [];
    private string? _lastSuppressed;

    /// <param name="secret">The shared secret.</param>
    /// <param name="salt">The salt to stretch it with (<see cref="NodeHostOptions.Salt"/>); null draws a fresh one.</param>
    /// <param name="logger">Where failed handshakes are logged.</param>
    public AuthGuard(string secret, byte[]? salt, ILogger logger)
    {
        _logger = logger;
        Salt = salt ?? SecretKey.NewSalt();
        Key = SecretKey.DeriveAsync(secret, Salt);
        _summaryTimer = new Timer(_ => FlushSummary(), null, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>This node's salt, sent in its hello: fresh each time the node starts, unless the node was given one.</summary>
    public byte[] Salt { get; }

    /// <summary>The derived secret (<see cref="SecretKey"/>), ready shortly after the node starts.</summary>
    public Task<byte[]> Key { get; }

    private sealed class Failures
    {
        public int Count;
        public long LastFailure;
        public long NextAnswer;
    }

    /// <summary>How long to wait before answering a proof from <paramref name="address"/>; reserves that slot.</summary>
    public TimeSpan DelayBeforeAnswering(IPAddress? address)
    {
        if (address is null)
        {
            return TimeSpan.Zero;
        }

        long now = Stopwatch.GetTimestamp();
        lock (_failures)
        {
            if (!_failures.TryGetValue(address, out Failures? entry) || entry.Count == 0)
            {
                return TimeSpan.Zero;
            }

            if (Stopwatch.GetElapsedTime(entry.LastFailure, now) > ForgetAfter)
            {
                _failures.Remove(address);
                return TimeSpan.Zero;
            }

            double factor = Math.Pow(2, Math.Min(entry.Count - 1, 16));
            long delay = Math.Min((long)(FirstDelay.Ticks * factor), MaxDelay.Ticks);
            long start = Math.Max(now, entry.NextAnswer);
            long answerAt = start + (long)(delay * (Stopwatch.Frequency / (double)TimeSpan.TicksPerSecond));
            entry.NextAnswer = answerAt;
            return Stopwatch.GetElapsedTime(now, answerAt);
        }
    }

    public void Succeeded(IPAddress? address)
    {
        if (address is not null)
        {
            lock (_failures)
            {
                _failures.Remove(address);
            }
        }
    }

    /// <summary>Counts a failed handshake against its address and logs it, rate-limited.</summary>
    public void Failed(IPAddress? address, string peer, string reason)
    {
        if (address is not null)
        {
            lock (_failures)
            {
                if (!_failures.TryGetValue(address, out Failures? entry))
                {
                    if (_failures.Count >= MaxAddresses)
                    {
                        ForgetOldestLocked();
                    }

                    entry = new Failures();
                    _failures[address] = entry;
                }

                entry.Count++;
                entry.LastFailure = Stopwatch.GetTimestamp();
            }
        }

        lock (_logGate)
        {
            long now = Stopwatch.GetTimestamp();
            if (_intervalStart == long.MinValue || Stopwatch.GetElapsedTime(_intervalStart, now) >= LogInterval)
            {
                FlushSummaryLocked();
                _intervalStart = now;
                Log.AuthenticationFailed(_logger, peer, reason);
                return;
            }

            if (_suppressed++ == 0)
            {
                _summaryTimer.Change(LogInterval - Stopwatch.GetElapsedTime(_intervalStart, now), Timeout.InfiniteTimeSpan);
            }

            if (address is not null && _suppressedFrom.Count < MaxAddresses)
            {
                _suppressedFrom.Add(address);
            }

            _lastSuppressed = $"{peer}: {reason}";
        }
    }

    private void ForgetOldestLocked()
    {
        foreach (IPAddress old in _failures.OrderBy(pair => pair.Value.LastFailure).Take(MaxAddresses / 4).Select(pair => pair.Key).ToList())
        {
            _failures.Remove(old);
        }
    }

    private void FlushSummary()
    {
        lock (_logGate)
        {
            FlushSummaryLocked();
        }
    }

    private void FlushSummaryLocked()
    {
        if (_suppressed == 0)
        {
            return;
        }

        Log.AuthenticationFailuresSummarized(_logger, _suppressed, _suppressedFrom.Count, LogInterval.TotalSeconds, _lastSuppressed ?? string.Empty);
        _suppressed = 0;
        _suppressedFrom.Clear();
        _lastSuppressed = null;
        _intervalStart = Stopwatch.GetTimestamp(); // The summary opens a new interval: the next failure is counted, not logged.
    }

    public void Dispose()
    {
        _summaryTimer.Dispose();
        FlushSummary();
    }
}
