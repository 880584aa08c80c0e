using Microsoft.Extensions.Logging;
using PPSharp.Remote;

namespace PPSharp.Discovery;

/// <summary>
/// <c>dir:PATH</c> in <c>ppservers</c>: a directory of address files, one per node, each holding "HOST:PORT" (what
/// <c>ppserver -o FILE</c> writes once it listens, and removes when it stops). The directory is read now and every
/// <see cref="Interval"/>; a file that appears or changes is reported at once, and every file again each
/// <see cref="RefreshInterval"/>, so a node whose connection failed once is tried again while its file is there.
/// </summary>
/// <remarks>
/// This is how a batch scheduler's nodes are found (<c>PPSharp.Slurm</c>): a node started on a host and port of the
/// scheduler's choosing reports its address through a shared file system, which every HPC cluster has, rather than
/// through a port known in advance. Polling rather than file-change notifications, since those do not cross NFS.
/// </remarks>
internal sealed class DirectoryWatcher : IDisposable
{
    public const string Prefix = "dir:";

    /// <summary>How often the directory is listed.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>How often every file is reported again, changed or not.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(30);

    /// <summary>An address file larger than this is not an address file.</summary>
    private const int MaxFileSize = 1024;

    private readonly string _directory;
    private readonly Action<string, int> _found;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationToken _stopping;
    private readonly Dictionary<string, string> _seen = new(StringComparer.Ordinal);

    private DirectoryWatcher(string directory, Action<string, int> found, ILogger logger)
    {
        _directory = directory;
        _found = found;
        _logger = logger;
        _stopping = _stop.Token; // taken now: the source may be disposed while the loop still runs
        _ = Task.Run(WatchAsync);
    }

    public static bool IsDirectory(string address) => address.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase);

    /// <exception cref="ArgumentException">Not of the form <c>dir:PATH</c>.</exception>
    public static DirectoryWatcher Start(string address, Action<string, int> found, ILogger logger) =>
        new(Parse(address), found, logger);

    /// <summary>The full path of the directory named by <c>dir:PATH</c>; it need not exist yet.</summary>
    /// <exception cref="ArgumentException">Not of the form <c>dir:PATH</c>.</exception>
    public static string Parse(string address)
    {
        string path = address[Prefix.Length..];
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new ArgumentException($"'{address}' is not of the form dir:PATH.", nameof(address));
        }

        try
        {
            return Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new ArgumentException($"'{address}' is not of the form dir:PATH: {e.Message}", nameof(address), e);
        }
    }

    private async Task WatchAsync()
    {
        long refreshEvery = Math.Max(1, RefreshInterval.Ticks / Interval.Ticks);
        using var timer = new PeriodicTimer(Interval);
        for (long round = 0; !_stopping.IsCancellationRequested; round++)
        {
            Scan(reportAll: round % refreshEvery == 0);
            try
            {
                await timer.WaitForNextTickAsync(_stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Scan(bool reportAll)
    {
        string[] files;
        try
        {
            // Temporary files (a node writes "FILE.PID.tmp" and renames it) are not addresses yet.
            files = [.. Directory.EnumerateFiles(_directory).Where(f => !f.EndsWith(".tmp", StringComparison.Ordinal))];
        }
        catch (DirectoryNotFoundException)
        {
            files = []; // not created yet, or removed: no nodes
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            DirectoryWatcherLog.AddressDirectoryFailed(_logger, _directory, e.Message);
            return;
        }

        foreach (string gone in _seen.Keys.Except(files).ToList())
        {
            _seen.Remove(gone);
        }

        foreach (string file in files)
        {
            string? content = Read(file);
            if (content is null || (!reportAll && _seen.TryGetValue(file, out string? before) && before == content))
            {
                continue;
            }

            bool changed = !_seen.TryGetValue(file, out string? previous) || previous != content;
            _seen[file] = content;
            try
            {
                (string host, int port) = RemoteNode.Parse(content);
                _found(host, port);
            }
            catch (ArgumentException e)
            {
                if (changed)
                {
                    DirectoryWatcherLog.BadAddressFile(_logger, file, e.Message);
                }
            }
        }
    }

    private static string? Read(string file)
    {
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (stream.Length > MaxFileSize)
            {
                return string.Empty; // reported as a bad address
            }

            using var reader = new StreamReader(stream);
            return reader.ReadToEnd().Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // removed between the listing and the read, or being replaced: read it next time
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }
}

/// <summary>The log messages of <see cref="DirectoryWatcher"/>.</summary>
internal static partial class DirectoryWatcherLog
{
    [LoggerMessage(1401, LogLevel.Warning, "Cannot list the address directory {Directory}: {Reason}")]
    public static partial void AddressDirectoryFailed(ILogger logger, string directory, string reason);

    [LoggerMessage(1402, LogLevel.Warning, "Address file {File} does not hold HOST:PORT: {Reason}")]
    public static partial void BadAddressFile(ILogger logger, string file, string reason);
}
