using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PPSharp.Bench.Suite;

/// <summary>
/// What TLS costs a node connection (issue 11): the same remote workloads against a <c>ppserver -w 2</c> on loopback,
/// plain and with <c>--tls-cert</c> (a self-signed certificate made here, pinned by the client), alternated round by
/// round in one run so that both see the same machine. Frames are sealed (AES-GCM) in both; TLS comes on top.
/// </summary>
internal static class TlsCost
{
    public const string Mode = "tls";

    private const int Workers = 2;

    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        int jobs = quick ? 20_000 : 100_000;
        int trips = quick ? 500 : 2_000;
        int echoes = quick ? 4 : 10;
        int rounds = quick ? 1 : 3;

        string folder = Directory.CreateTempSubdirectory("ppsharp-bench-tls-").FullName;
        try
        {
            (string certPath, string keyPath, string thumbprint) = MakeCertificate(folder);
            var samples = new Dictionary<bool, List<(double JobsPerSecond, double RoundTripMicros, double EchoMiBs)>> { [false] = [], [true] = [] };
            Console.WriteLine($"TLS cost: ppserver -w {Workers} on 127.0.0.1, {jobs:N0} identity jobs, {trips:N0} round trips, {echoes} 8 MiB echoes; {rounds} round(s), plain and TLS alternated");
            for (int round = 1; round <= rounds; round++)
            {
                foreach (bool tls in (bool[])[false, true])
                {
                    using PpServer node = PpServer.Start(Workers, extraArguments: tls ? ["--tls-cert", certPath, "--tls-key", keyPath] : []);
                    var options = new JobServerOptions { Ncpus = 0, Secret = node.Secret };
                    options.PpServers.Add(node.EndPoint);
                    if (tls)
                    {
                        options.Tls = new SslClientAuthenticationOptions
                        {
                            RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == thumbprint,
                        };
                    }

                    using var server = new JobServer(options);
                    Workloads.Check(server.Submit(Workloads.Identity, 1).Result == 1);
                    (double jobsPerSecond, _) = Workloads.Throughput(server, jobs, runs: 1);
                    double roundTrip = Workloads.RoundTrip(server, trips).MedianMicros;
                    double echo = Workloads.Echo8MiB(server, echoes);
                    samples[tls].Add((jobsPerSecond, roundTrip, echo));
                    Console.WriteLine($"  round {round}, {(tls ? "TLS  " : "plain")}: {jobsPerSecond:N0} jobs/s, one at a time {roundTrip:N0} µs, 8 MiB echo {echo:N0} MiB/s");
                }
            }

            static double Median(IEnumerable<double> values)
            {
                double[] sorted = [.. values.Order()];
                return sorted[sorted.Length / 2];
            }

            Console.WriteLine();
            Console.WriteLine("| remote, medians | plain (sealed frames) | TLS + sealed frames | TLS / plain |");
            Console.WriteLine("|---|---|---|---|");
            foreach ((string what, Func<(double, double, double), double> pick, string unit) in (ReadOnlySpan<(string, Func<(double, double, double), double>, string)>)[
                ("tiny-job throughput", s => s.Item1, "jobs/s"),
                ("one job at a time", s => s.Item2, "µs"),
                ("8 MiB argument and result", s => s.Item3, "MiB/s")])
            {
                double plain = Median(samples[false].Select(s => pick(s)));
                double tls = Median(samples[true].Select(s => pick(s)));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {what} | {plain:N0} {unit} | {tls:N0} {unit} | {tls / plain:0.00} |"));
            }

            return 0;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static (string Cert, string Key, string Thumbprint) MakeCertificate(string folder)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=ppsharp-bench-node", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        string certPath = Path.Combine(folder, "node.crt");
        string keyPath = Path.Combine(folder, "node.key");
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath, certificate.Thumbprint);
    }
}
