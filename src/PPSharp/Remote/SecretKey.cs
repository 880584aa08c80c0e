using System.Security.Cryptography;
using System.Text;

namespace PPSharp.Remote;

/// <summary>
/// The key every handshake proof and session key comes from: PBKDF2-HMAC-SHA256 of the shared secret with the node's
/// salt, <see cref="Iterations"/> rounds. Slow on purpose, so that someone who has recorded a genuine handshake pays
/// that much for each guess of the secret; computed once per (secret, salt) in a process and cached, never per
/// connection.
/// </summary>
/// <remarks>
/// A client meets one salt per node unless the nodes share one (<see cref="NodeHostOptions.Salt"/>, <c>ppserver
/// --salt</c>): a hundred nodes started with their own salts cost a hundred derivations, about a second of CPU each.
/// They run on at most <see cref="MaxConcurrent"/> threads of their own, never on the thread pool: the pool would take
/// each busy derivation for a blocked work item and add threads, and the connections' own loops would wait behind
/// them. Callers await the derivation; nobody blocks a thread on another's.
/// </remarks>
internal static class SecretKey
{
    /// <summary>OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256; 1.3 s of wall time on this project's machine under load.</summary>
    public const int Iterations = 600_000;

    /// <summary>A node's salt has this size: drawn at random when the node starts, or given to every node of a cluster.</summary>
    public const int SaltSize = 16;

    public const int Size = 32;

    /// <summary>Derived keys kept per process: one per node salt met, 32 bytes each; a thousand nodes stay well inside.</summary>
    private const int CacheLimit = 4096;

    /// <summary>Derivations run at once: half the cores, so that a client meeting many new nodes keeps the rest for its jobs.</summary>
    private static readonly int MaxConcurrent = Math.Max(1, Environment.ProcessorCount / 2);

    private static readonly SemaphoreSlim s_slots = new(MaxConcurrent, MaxConcurrent);
    private static readonly Dictionary<(string Secret, string Salt), Task<byte[]>> s_cache = [];

    public static byte[] NewSalt() => RandomNumberGenerator.GetBytes(SaltSize);

    /// <summary>The derived key of <paramref name="secret"/> with <paramref name="salt"/>: computed the first time, then cached.</summary>
    public static Task<byte[]> DeriveAsync(string secret, byte[] salt)
    {
        var name = (secret, Convert.ToHexString(salt));
        lock (s_cache)
        {
            if (s_cache.TryGetValue(name, out Task<byte[]>? known) && !known.IsFaulted)
            {
                return known;
            }

            if (s_cache.Count >= CacheLimit)
            {
                s_cache.Clear(); // A client that has met this many salts (restarted nodes) derives again; rare.
            }

            Task<byte[]> derivation = Compute(secret, (byte[])salt.Clone());
            s_cache[name] = derivation;
            return derivation;
        }
    }

    private static async Task<byte[]> Compute(string secret, byte[] salt)
    {
        await s_slots.WaitAsync().ConfigureAwait(false);
        try
        {
            // LongRunning: a thread of its own for the second or so of CPU, not a pool thread.
            return await Task.Factory.StartNew(
                () => Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(secret), salt, Iterations, HashAlgorithmName.SHA256, Size),
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default).ConfigureAwait(false);
        }
        finally
        {
            s_slots.Release();
        }
    }
}
