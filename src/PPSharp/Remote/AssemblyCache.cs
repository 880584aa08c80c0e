using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PPSharp.Internal;

namespace PPSharp.Remote;

/// <summary>
/// The node's store of uploaded assemblies, one file per SHA-256 under the user's cache folder, shared by every
/// connection, client and restart: code a node has seen once is not uploaded again while it stays cached.
/// </summary>
/// <remarks>
/// The cache is kept under a size quota (<see cref="NodeHostOptions.CacheSizeLimit"/>): after each upload, the
/// assemblies used least recently (by this node's record, seeded from the files' modification times at start) are
/// deleted until the total fits, except those a connected client's functions use, which are never evicted (the cache
/// may then stay over its quota until those clients leave, and says so in the log). An upload larger than the whole
/// quota is refused. The quota is per node process: two nodes sharing one folder each keep their own account.
/// Thread-safe.
/// </remarks>
internal sealed class AssemblyCache
{
    private readonly string _directory;
    private readonly long _limit;
    private readonly ILogger _logger;
    private readonly Func<IReadOnlySet<string>> _inUse;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.OrdinalIgnoreCase);
    private long _total;

    private sealed class Entry(long size, DateTime lastUsed)
    {
        public long Size { get; } = size;

        public DateTime LastUsed { get; set; } = lastUsed;
    }

    /// <param name="directory">The folder; null for <c>$XDG_CACHE_HOME/ppsharp/assemblies</c>.</param>
    /// <param name="limit">The quota in bytes.</param>
    /// <param name="logger">Where evictions are logged.</param>
    /// <param name="inUse">The hashes connected clients' functions use now (a set ignoring case); never evicted.</param>
    public AssemblyCache(string? directory, long limit = NodeHostOptions.DefaultCacheSizeLimit, ILogger? logger = null, Func<IReadOnlySet<string>>? inUse = null)
    {
        _directory = directory ?? Path.Combine(DefaultRoot(), "ppsharp", "assemblies");
        _limit = limit;
        _logger = logger ?? NullLogger.Instance;
        _inUse = inUse ?? (() => new HashSet<string>(StringComparer.OrdinalIgnoreCase));
        Directory.CreateDirectory(_directory);
        foreach (FileInfo file in new DirectoryInfo(_directory).EnumerateFiles("*.dll"))
        {
            string sha = Path.GetFileNameWithoutExtension(file.Name);
            if (IsSha256(sha))
            {
                _entries[sha] = new Entry(file.Length, file.LastWriteTimeUtc);
                _total += file.Length;
            }
        }

        Log.AssemblyCacheOpened(_logger, _directory, _entries.Count, _total, _limit);
        lock (_gate)
        {
            EvictLocked();
        }
    }

    public long Limit => _limit;

    /// <summary>The bytes this node counts in its cache now.</summary>
    public long TotalBytes
    {
        get
        {
            lock (_gate)
            {
                return _total;
            }
        }
    }

    public string PathOf(string sha256) => Path.Combine(_directory, sha256.ToLowerInvariant() + ".dll");

    /// <summary>Whether the assembly is cached; a hit counts as a use (it moves to the back of the eviction order).</summary>
    public bool Contains(string sha256)
    {
        if (!IsSha256(sha256) || !File.Exists(PathOf(sha256)))
        {
            return false;
        }

        lock (_gate)
        {
            if (_entries.TryGetValue(sha256, out Entry? entry))
            {
                entry.LastUsed = DateTime.UtcNow;
            }
        }

        return true;
    }

    /// <summary>
    /// Stores an upload after checking that its content has the announced hash (before anything is written), then
    /// evicts what the quota asks for.
    /// </summary>
    public AddResult TryAdd(string sha256, ReadOnlySpan<byte> content)
    {
        if (!IsSha256(sha256) || !Convert.ToHexStringLower(SHA256.HashData(content)).Equals(sha256, StringComparison.OrdinalIgnoreCase))
        {
            return AddResult.HashMismatch;
        }

        if (content.Length > _limit)
        {
            return AddResult.OverQuota;
        }

        string target = PathOf(sha256);
        if (!File.Exists(target))
        {
            // Write aside, then move into place: a reader never sees half a file, and two writers of one hash agree.
            string temporary = $"{target}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
            File.WriteAllBytes(temporary, content.ToArray());
            try
            {
                File.Move(temporary, target, overwrite: true);
            }
            catch (IOException) when (File.Exists(target))
            {
                File.Delete(temporary);
            }
        }

        lock (_gate)
        {
            if (!_entries.ContainsKey(sha256))
            {
                _entries[sha256] = new Entry(content.Length, DateTime.UtcNow);
                _total += content.Length;
            }

            EvictLocked();
        }

        return AddResult.Added;
    }

    private void EvictLocked()
    {
        if (_total <= _limit)
        {
            return;
        }

        IReadOnlySet<string> inUse = _inUse();
        foreach ((string sha, Entry entry) in _entries.OrderBy(pair => pair.Value.LastUsed).ToList())
        {
            if (_total <= _limit)
            {
                return;
            }

            if (inUse.Contains(sha))
            {
                continue;
            }

            try
            {
                File.Delete(PathOf(sha)); // A worker that loaded it keeps its mapping; new loads ask for it again.
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            _entries.Remove(sha);
            _total -= entry.Size;
            Log.AssemblyEvicted(_logger, sha, entry.Size, _limit);
        }

        if (_total > _limit)
        {
            Log.AssemblyCacheOverQuota(_logger, _total, _limit);
        }
    }

    private static bool IsSha256(string value) => value.Length == 64 && value.All(char.IsAsciiHexDigit);

    private static string DefaultRoot()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrEmpty(xdg))
        {
            return xdg;
        }

        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return OperatingSystem.IsWindows()
            ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData)
            : Path.Combine(home, ".cache");
    }

    public enum AddResult
    {
        Added,
        HashMismatch,
        OverQuota,
    }
}
