using System.Globalization;
using System.Net;
using System.Net.Sockets;
using PPSharp.Discovery;
using PPSharp.Tests.Server;

namespace PPSharp.Tests.Discovery;

/// <summary>
/// Auto-discovery end to end, with real <c>ppserver -a</c> processes. All discovery traffic stays on loopback: nodes
/// broadcast to 127.255.255.255 only and clients use 127.*.*.* patterns; nothing is sent anywhere else.
/// </summary>
public sealed class DiscoveryTests
{
    private const string Secret = "discovery-test-secret";

    private static PpServerProcess StartAnnouncingNode(int port, int workers = 1) =>
        PpServerProcess.Start(["-a", "-b", "127.255.255.255", "-i", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-w", workers.ToString(CultureInfo.InvariantCulture), "-s", Secret]);

    private static int FreePort()
    {
        // A port free for both TCP and UDP: the node listens on TCP and announces on the UDP port of the same number.
        while (true)
        {
            using var tcp = new TcpListener(IPAddress.Loopback, 0);
            tcp.Start();
            int port = ((IPEndPoint)tcp.LocalEndpoint).Port;
            tcp.Stop();
            try
            {
                using var udp = new UdpClient(new IPEndPoint(IPAddress.Any, port));
                return port;
            }
            catch (SocketException)
            {
            }
        }
    }

    [Fact]
    public async Task Pattern_FindsAnnouncingNodeAndRunsJobsThere()
    {
        int port = FreePort();
        using PpServerProcess node = StartAnnouncingNode(port);
        await node.WaitForListeningAsync();

        using var server = new JobServer(0, ppservers: [$"127.*.*.*:{port}"], secret: Secret);
        Job<double> job = server.Submit(Math.Sin, Math.PI / 2);

        Assert.Equal(1.0, await job.AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal($"127.0.0.1:{port}", job.Node);
        Assert.Equal(1, server.GetStats()[$"127.0.0.1:{port}"].JobCount);
    }

    [Fact]
    public async Task Pattern_UsesNodeThatStartsAfterTheClient()
    {
        int port = FreePort();
        using var server = new JobServer(0, ppservers: [$"127.*.*.*:{port}"], secret: Secret);
        Job<int> job = server.Submit((int x) => x + 1, 41);
        Assert.False(job.IsCompleted); // No node yet, no local workers: it waits.

        using PpServerProcess node = StartAnnouncingNode(port);
        await node.WaitForListeningAsync();

        Assert.Equal(42, await job.AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal($"127.0.0.1:{port}", job.Node);
    }

    [Fact]
    public async Task KilledNode_IsDroppedAndItsJobsFinishLocally()
    {
        int port = FreePort();
        using PpServerProcess node = StartAnnouncingNode(port, workers: 2);
        await node.WaitForListeningAsync();
        using var server = new JobServer(0, ppservers: [$"127.*.*.*:{port}"], secret: Secret);
        Assert.Equal(1, await server.Submit(() => 1).AsTask().WaitAsync(TimeSpan.FromSeconds(60)));

        // Jobs that cannot finish on the node: they block until the test releases them, which it never does there.
        using var gate = new Support.JobGate();
        var blocked = Enumerable.Range(0, 2).Select(i => server.Submit(Support.JobGate.ArriveAndWait, gate.Port)).ToList();
        await gate.NextArrivalAsync();
        node.Dispose(); // kills the node's process tree by pid

        server.Ncpus = 1;
        gate.Open();
        int[] pids = await Task.WhenAll(blocked.Select(j => j.AsTask().WaitAsync(TimeSpan.FromSeconds(60))));
        Assert.All(blocked, j => Assert.Equal("local", j.Node));
        Assert.Equal(2, pids.Length);
        Assert.DoesNotContain($"127.0.0.1:{port}", server.GetActiveNodes().Keys);
    }

    [Fact]
    public async Task GarbageDatagrams_AreIgnored_AndDiscoveryStillWorks()
    {
        int port = FreePort();
        using PpServerProcess node = StartAnnouncingNode(port);
        await node.WaitForListeningAsync();

        using (var sender = new UdpClient())
        {
            sender.EnableBroadcast = true;
            var target = new IPEndPoint(IPAddress.Parse("127.255.255.255"), port);
            var random = new Random(7);
            for (int i = 0; i < 2000; i++)
            {
                byte[] junk = new byte[random.Next(0, i % 10 == 0 ? 1400 : 40)];
                random.NextBytes(junk);
                if (i % 3 == 0 && junk.Length >= 11)
                {
                    "PPSHARP\0"u8.CopyTo(junk); // right magic, wrong everything else
                }

                await sender.SendAsync(junk, target);
            }
        }

        using var server = new JobServer(0, ppservers: [$"127.*.*.*:{port}"], secret: Secret);
        Assert.Equal(6, await server.Submit((int x) => x * 2, 3).AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task DnsName_ConnectsToEveryAddressItResolvesTo()
    {
        using PpServerProcess node = PpServerProcess.Start(["-i", "127.0.0.1", "-p", "0", "-w", "1", "-s", Secret]);
        int port = await node.WaitForListeningAsync();

        using var server = new JobServer(0, ppservers: [$"dns:localhost:{port}"], secret: Secret);
        Job<int> job = server.Submit((int x) => x - 1, 8);

        Assert.Equal(7, await job.AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal($"127.0.0.1:{port}", job.Node);
    }

    [Theory]
    [InlineData("127.*.*.*:0")]
    [InlineData("127.*.*:35000")]
    [InlineData("300.*.*.*:35000")]
    [InlineData("*:notaport")]
    public void Pattern_IsRefusedWithAClearError_WhenMalformed(string pattern)
    {
        var error = Assert.Throws<ArgumentException>(() => new JobServer(0, ppservers: [pattern]));
        Assert.Contains(pattern, error.Message);
    }
}

public sealed class DiscoveryDatagramUnitTests
{
    [Fact]
    public void Announcement_RoundTrips()
    {
        byte[] datagram = DiscoveryDatagram.Announcement(35000, "127.0.0.1");

        Assert.True(DiscoveryDatagram.TryReadAnnouncement(datagram, out int port, out string? address));
        Assert.Equal((35000, "127.0.0.1"), (port, address));
        Assert.False(DiscoveryDatagram.IsRequest(datagram));
    }

    [Fact]
    public void Request_IsRecognised_AndIsNotAnAnnouncement()
    {
        byte[] datagram = DiscoveryDatagram.Request();

        Assert.True(DiscoveryDatagram.IsRequest(datagram));
        Assert.False(DiscoveryDatagram.TryReadAnnouncement(datagram, out _, out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(13)]
    [InlineData(200)]
    public void Garbage_IsRejected(int length)
    {
        byte[] junk = new byte[length];
        new Random(length).NextBytes(junk);

        Assert.False(DiscoveryDatagram.TryReadAnnouncement(junk, out _, out _));
        Assert.False(DiscoveryDatagram.IsRequest(junk));
    }

    [Fact]
    public void Announcement_IsRejected_WhenItsAddressIsNotAnIpAddress()
    {
        byte[] datagram = DiscoveryDatagram.Announcement(35000, "not-an-ip");

        Assert.False(DiscoveryDatagram.TryReadAnnouncement(datagram, out _, out _));
    }
}
