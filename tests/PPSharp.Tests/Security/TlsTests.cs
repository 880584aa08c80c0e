using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PPSharp.Tests.Remote;

namespace PPSharp.Tests.Security;

/// <summary>
/// A real node started with <c>--tls-cert</c>/<c>--tls-key</c> (a self-signed certificate the test makes): a client
/// that trusts it runs jobs there; one that does not, or one that does not speak TLS to it, never gets a session, and
/// the first is refused with a reason that says TLS.
/// </summary>
public sealed class TlsTests : RemoteTestBase
{
    private readonly X509Certificate2 _certificate;
    private readonly string _certPath;
    private readonly string _keyPath;

    public TlsTests()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=ppsharp-test-node", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        _certPath = Path.Combine(Folder, "node.crt");
        _keyPath = Path.Combine(Folder, "node.key");
        File.WriteAllText(_certPath, _certificate.ExportCertificatePem());
        File.WriteAllText(_keyPath, key.ExportPkcs8PrivateKeyPem());
    }

    private Task<TestNode> StartTlsNodeAsync() => StartNodeAsync(extraArguments: ["--tls-cert", _certPath, "--tls-key", _keyPath]);

    private JobServer Client(TestNode node, SslClientAuthenticationOptions? tls)
    {
        var options = new JobServerOptions { Ncpus = 0, Secret = Secret, Tls = tls };
        options.PpServers.Add(node.Address);
        return new JobServer(options);
    }

    [Fact]
    public async Task AClientThatTrustsTheNodesCertificate_RunsJobsThere()
    {
        using TestNode node = await StartTlsNodeAsync();
        string pinned = _certificate.Thumbprint;
        using JobServer server = Client(node, new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == pinned,
        });

        Job<int> job = server.Submit((int x) => x + 1, 41);

        Assert.Equal(42, await job.Within());
        Assert.Equal(node.Address, job.Node);
    }

    [Fact]
    public async Task AClientThatDoesNotTrustTheCertificate_IsRefused_WithAReasonThatSaysTls()
    {
        using TestNode node = await StartTlsNodeAsync();
        using JobServer server = Client(node, new SslClientAuthenticationOptions()); // the system's trust: a self-signed certificate fails

        JobFailedException error = await Assert.ThrowsAsync<JobFailedException>(() => server.Submit(Functions.Square, 3).Within());

        Assert.Contains(node.Address, error.Message);
        Assert.Contains("TLS", error.Message);
        Assert.Equal(NodeConnectionState.Refused, Assert.Single(server.GetNodeStatus()).State);
    }

    [Fact]
    public async Task ATlsClientOfAPlainNode_IsRefused_AndAPlainClientOfATlsNodeGetsNoSession()
    {
        using TestNode plainNode = await StartNodeAsync();
        using (JobServer tlsClient = Client(plainNode, new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == _certificate.Thumbprint }))
        {
            JobFailedException error = await Assert.ThrowsAsync<JobFailedException>(() => tlsClient.Submit(Functions.Square, 3).Within());
            Assert.Contains("TLS", error.Message);
        }

        using TestNode tlsNode = await StartTlsNodeAsync();
        using JobServer plainClient = Client(tlsNode, tls: null);
        Job<int> waiting = plainClient.Submit(Functions.Square, 3);
        await Bounds.Until(() => Assert.Single(plainClient.GetNodeStatus()).LastError is not null); // it tried, and got no hello

        Assert.NotEqual(NodeConnectionState.Connected, Assert.Single(plainClient.GetNodeStatus()).State);
        Assert.False(waiting.IsCompleted); // an unreachable node keeps its jobs waiting, as in ppft; it never connects
    }
}
