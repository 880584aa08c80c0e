using System.Globalization;
using System.Security.Cryptography;

namespace PPSharp.Tests.Remote;

/// <summary>
/// A Linux network namespace of one test's own (<c>ppsharp-&lt;random&gt;</c>), joined to the root namespace by a veth
/// pair with a private /30 of the test's own (a random <c>10.213.x.y/30</c> no route of this machine covers): the root
/// side is <see cref="HostAddress"/>, the namespace side <see cref="NodeAddress"/>. Nothing is routed outward: the
/// namespace has no route but its /30, and a blackhole route for the /30 in the root namespace (a higher metric than
/// the link's own route) keeps packets for it from taking the default route while the link is down. <see cref="Cut"/>
/// and <see cref="Heal"/> take the root side of the link down and up. Disposing removes the veth pair, the namespace
/// and the route; processes started in the namespace must be stopped first, by pid, by whoever started them.
/// </summary>
/// <remarks>Needs root and iproute2's <c>ip</c> (<c>.ci/run</c> installs it when missing); see <see cref="SkipUnlessAvailable"/>.</remarks>
public sealed class NetworkNamespace : IDisposable
{
    /// <summary>The blackhole route's metric: above the link's own route (0), so it only matters while the link is down.</summary>
    private const int BlackholeMetric = 4242;

    private static readonly Lazy<string?> Missing = new(Probe);

    private bool _disposed;

    private NetworkNamespace(string name, string hostInterface, string nodeInterface, string subnet, string hostAddress, string nodeAddress)
    {
        Name = name;
        HostInterface = hostInterface;
        NodeInterface = nodeInterface;
        Subnet = subnet;
        HostAddress = hostAddress;
        NodeAddress = nodeAddress;
    }

    /// <summary>The namespace's name, as <c>ip netns list</c> shows it.</summary>
    public string Name { get; }

    /// <summary>The veth end in the root namespace (the one <see cref="Cut"/> takes down).</summary>
    public string HostInterface { get; }

    /// <summary>The veth end inside the namespace.</summary>
    public string NodeInterface { get; }

    /// <summary>The pair's /30, e.g. 10.213.17.8/30.</summary>
    public string Subnet { get; }

    /// <summary>The root namespace's address on the link.</summary>
    public string HostAddress { get; }

    /// <summary>The namespace's address on the link: where a node inside listens.</summary>
    public string NodeAddress { get; }

    /// <summary>The command prefix that runs a program inside the namespace (<c>ip netns exec NAME</c>, which execs it: same pid).</summary>
    public IReadOnlyList<string> Exec => ["ip", "netns", "exec", Name];

    /// <summary>Skips the calling test, saying why, where namespaces cannot be made (not Linux, not root, no <c>ip</c>, not permitted).</summary>
    public static void SkipUnlessAvailable() => Skip.If(Missing.Value is not null, Missing.Value);

    /// <summary>Makes a namespace, the veth pair and their addresses; on any failure, removes what it made and throws.</summary>
    public static NetworkNamespace Create()
    {
        string id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        string name = $"ppsharp-{id}";
        string host = $"pps{id[..6]}h"; // interface names: at most 15 characters
        string node = $"pps{id[..6]}n";

        // A /30 of our own: one that no route of this machine covers (other than the default route), claimed by adding
        // its blackhole route (which fails if another run added the same one meanwhile).
        string? subnet = null;
        int third = 0, base4 = 0;
        for (int attempt = 0; attempt < 32 && subnet is null; attempt++)
        {
            third = RandomNumberGenerator.GetInt32(256);
            base4 = RandomNumberGenerator.GetInt32(64) * 4;
            string candidate = $"10.213.{third}.{base4}/30";
            (int _, string routes, string _) = Ip("-4", "route", "show", "match", candidate);
            bool covered = routes.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Any(line => !line.StartsWith("default", StringComparison.Ordinal));
            if (!covered && Ip("route", "add", "blackhole", candidate, "metric", BlackholeMetric.ToString(CultureInfo.InvariantCulture)).ExitCode == 0)
            {
                subnet = candidate;
            }
        }

        Assert.True(subnet is not null, "no free 10.213.x.y/30 found for the test's network namespace");
        var network = new NetworkNamespace(name, host, node, subnet, $"10.213.{third}.{base4 + 1}", $"10.213.{third}.{base4 + 2}");
        try
        {
            network.Run("netns", "add", name);
            network.Run("link", "add", host, "type", "veth", "peer", "name", node, "netns", name);
            network.Run("addr", "add", $"{network.HostAddress}/30", "dev", host);
            network.Run("link", "set", host, "up");
            network.Run("-n", name, "addr", "add", $"{network.NodeAddress}/30", "dev", node);
            network.Run("-n", name, "link", "set", node, "up");
            network.Run("-n", name, "link", "set", "lo", "up");
            return network;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>Cuts the link: the root side goes down (the namespace side loses its carrier), so nothing passes either way.</summary>
    public void Cut() => Run("link", "set", HostInterface, "down");

    /// <summary>Heals the link: the root side comes up again, and with it the route to the /30.</summary>
    public void Heal() => Run("link", "set", HostInterface, "up");

    /// <summary>True while the namespace is listed by <c>ip netns list</c>.</summary>
    public static bool NamespaceExists(string name) =>
        Ip("netns", "list").Stdout.Split('\n').Any(line => line.Split(' ')[0] == name);

    /// <summary>True while a network interface of this name exists in the root namespace.</summary>
    public static bool InterfaceExists(string name) => Directory.Exists($"/sys/class/net/{name}");

    /// <summary>True while the root namespace has a route for exactly this prefix (the blackhole route, once the link is gone).</summary>
    public static bool RouteExists(string subnet) => Ip("-4", "route", "show", "exact", subnet).Stdout.Trim().Length > 0;

    /// <summary>Removes the veth pair, the namespace and the blackhole route, each whatever became of the others.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (InterfaceExists(HostInterface))
        {
            Ip("link", "del", HostInterface); // removes both ends
        }

        if (NamespaceExists(Name))
        {
            Ip("netns", "del", Name);
        }

        Ip("route", "del", "blackhole", Subnet, "metric", BlackholeMetric.ToString(CultureInfo.InvariantCulture));
    }

    private void Run(params string[] args)
    {
        (int code, string stdout, string stderr) = Ip(args);
        Assert.True(code == 0, $"ip {string.Join(' ', args)} failed ({code}): {stderr.Trim()} {stdout.Trim()}");
    }

    /// <summary>Runs <c>ip</c> to its exit (bounded) and returns what it did.</summary>
    private static (int ExitCode, string Stdout, string Stderr) Ip(params string[] args)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start ip");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Bounds.Hang))
        {
            process.Kill();
            throw new TimeoutException($"ip {string.Join(' ', args)} did not end within {Bounds.Hang}");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Why namespaces cannot be made here, or null: tried once, by making and removing one.</summary>
    private static string? Probe()
    {
        const string how = ".ci/run installs iproute2 when missing and runs the tests as root.";
        if (!OperatingSystem.IsLinux())
        {
            return "Network namespaces are Linux only.";
        }

        if (!Environment.IsPrivilegedProcess)
        {
            return $"Needs root to make a network namespace and a veth pair; this test process is not root. {how}";
        }

        string probe = $"ppsharp-probe-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        try
        {
            (int code, _, string stderr) = Ip("netns", "add", probe);
            if (code != 0)
            {
                return $"'ip netns add' is not permitted here ({stderr.Trim()}): a container without CAP_SYS_ADMIN?";
            }

            Ip("netns", "del", probe);
            return null;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"Needs iproute2's 'ip' to make a network namespace; it cannot run here ({e.Message}). {how}";
        }
    }
}
