using System.Security.Cryptography;
using PPSharp.Remote;

namespace PPSharp.Tests.Security;

/// <summary>The node's assembly cache on its own: hash checked before writing, a size quota, least recently used first out.</summary>
public sealed class AssemblyCacheQuotaUnitTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ppsharp-cache-").FullName;

    private static (string Sha, byte[] Content) Assembly(int size)
    {
        byte[] content = RandomNumberGenerator.GetBytes(size);
        return (Convert.ToHexStringLower(SHA256.HashData(content)), content);
    }

    [Fact]
    public void AnUploadThatDoesNotMatchItsHash_IsNotWritten()
    {
        var cache = new AssemblyCache(_folder, limit: 1 << 20);
        (string sha, _) = Assembly(100);

        Assert.Equal(AssemblyCache.AddResult.HashMismatch, cache.TryAdd(sha, new byte[100]));
        Assert.False(cache.Contains(sha));
        Assert.Empty(Directory.GetFiles(_folder));
    }

    [Fact]
    public void PastTheQuota_TheLeastRecentlyUsedAreEvicted_ButNotThoseInUse()
    {
        (string Sha, byte[] Content)[] items = [.. Enumerable.Range(0, 5).Select(_ => Assembly(1000))];
        var inUse = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { items[0].Sha };
        var cache = new AssemblyCache(_folder, limit: 3000, inUse: () => inUse);

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(AssemblyCache.AddResult.Added, cache.TryAdd(items[i].Sha, items[i].Content));
        }

        Assert.True(cache.Contains(items[1].Sha)); // used: now item 2 is the least recently used that may go
        cache.TryAdd(items[3].Sha, items[3].Content);

        Assert.True(cache.Contains(items[0].Sha)); // in use by a connected client: kept, however old
        Assert.True(cache.Contains(items[1].Sha));
        Assert.False(cache.Contains(items[2].Sha));
        Assert.True(cache.Contains(items[3].Sha));
        Assert.True(cache.TotalBytes <= 3000);
        Assert.Equal(3, Directory.GetFiles(_folder, "*.dll").Length);
    }

    [Fact]
    public void AnUploadLargerThanTheWholeQuota_IsRefused()
    {
        var cache = new AssemblyCache(_folder, limit: 500);
        (string sha, byte[] content) = Assembly(501);

        Assert.Equal(AssemblyCache.AddResult.OverQuota, cache.TryAdd(sha, content));
        Assert.Empty(Directory.GetFiles(_folder));
    }

    [Fact]
    public void ANodeStartingOnAFolderOverItsQuota_EvictsDownToIt()
    {
        var before = new AssemblyCache(_folder, limit: 1 << 20);
        foreach ((string sha, byte[] content) in Enumerable.Range(0, 4).Select(_ => Assembly(1000)))
        {
            before.TryAdd(sha, content);
        }

        var after = new AssemblyCache(_folder, limit: 2000);

        Assert.Equal(2000, after.TotalBytes);
        Assert.Equal(2, Directory.GetFiles(_folder, "*.dll").Length);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
