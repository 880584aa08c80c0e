using System.Security.Cryptography;
using System.Text;

namespace PPSharp.Remote;

/// <summary>
/// The key every handshake proof and session key comes from: PBKDF2-HMAC-SHA256 of the shared secret with the node's
/// salt, <see cref="Iterations"/> rounds. Slow on purpose, so that someone who has recorded a genuine handshake pays
/// that much for each guess of the secret; computed once per (secret, salt) in a process and cached, never per
/// connection.
/// </summary>
internal static class SecretKey
{
    /// <summary>OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256; 1.3 s of wall time on this project's machine under load.</summary>
    public const int Iterations = 600_000;

    /// <summary>A node draws a fresh random salt of this size when it starts, and sends it in its hello.</summary>
    public const int SaltSize = 16;

    public const int Size = 32;

    /// <summary>Derived keys kept per process: a client talks to a handful of nodes, each with its own salt.</summary>
    private const int CacheLimit = 64;

    private static readonly Dictionary<(string Secret, string Salt), Lazy<byte[]>> s_cache = [];

    public static byte[] NewSalt() => RandomNumberGenerator.GetBytes(SaltSize);

    /// <summary>The derived key of <paramref name="secret"/> with <paramref name="salt"/>: computed the first time, then cached.</summary>
    public static byte[] Derive(string secret, byte[] salt)
    {
        Lazy<byte[]> entry;
        lock (s_cache)
        {
            var name = (secret, Convert.ToHexString(salt));
            if (!s_cache.TryGetValue(name, out entry!))
            {
                if (s_cache.Count >= CacheLimit)
                {
                    s_cache.Clear(); // A client that has met this many salts (restarted nodes) derives again; rare.
                }

                entry = new Lazy<byte[]>(() => Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(secret), salt, Iterations, HashAlgorithmName.SHA256, Size));
                s_cache[name] = entry;
            }
        }

        return entry.Value;
    }
}
