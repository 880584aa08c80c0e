using System.Security.Cryptography;

namespace PPSharp.Remote;

/// <summary>
/// The node's store of uploaded assemblies, one file per SHA-256 under the user's cache folder, shared by every
/// connection, client and restart: code a node has seen once is never uploaded again.
/// </summary>
internal sealed class AssemblyCache
{
    private readonly string _directory;

    public AssemblyCache(string? directory)
    {
        _directory = directory ?? Path.Combine(DefaultRoot(), "ppsharp", "assemblies");
        Directory.CreateDirectory(_directory);
    }

    public string PathOf(string sha256) => Path.Combine(_directory, sha256.ToLowerInvariant() + ".dll");

    public bool Contains(string sha256) => IsSha256(sha256) && File.Exists(PathOf(sha256));

    /// <summary>Stores an upload after checking that its content has the announced hash; returns false if it does not.</summary>
    public bool TryAdd(string sha256, ReadOnlySpan<byte> content)
    {
        if (!IsSha256(sha256) || !Convert.ToHexStringLower(SHA256.HashData(content)).Equals(sha256, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        string target = PathOf(sha256);
        if (File.Exists(target))
        {
            return true;
        }

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

        return true;
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
}
