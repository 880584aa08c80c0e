using System.Globalization;

namespace PPSharp.Bench.Suite;

/// <summary>
/// One of the suite's figures alone, locally (<c>new JobServer(2)</c>) and through a <c>ppserver -w 2</c> on loopback,
/// alternated round by round so both see the same machine: for chasing that one figure, whose spread on this machine
/// is wide, without running the whole suite. <c>large</c> is the 8 MiB echo (one job takes 15 to 170 ms here);
/// <c>roundtrip</c> is one identity job at a time, each round beside the raw round trip of the transport it crosses
/// (a blocking ping-pong with a child process), measured right before it.
/// </summary>
internal static class OneFigure
{
    public const string LargeMode = "large";

    public const string RoundTripMode = "roundtrip";

    private const int Workers = 2;

    public static int Run(string mode, string[] args)
    {
        bool large = mode == LargeMode;
        int rounds = IntOption(args, "--rounds", 3);
        int count = IntOption(args, "--count", large ? 20 : 2_000);
        string where = StringOption(args, "--where", "both");
        if (rounds < 1 || count < 1 || where is not ("local" or "node" or "both"))
        {
            Console.Error.WriteLine($"usage: PPSharp.Bench {mode} [--rounds N] [--count N] [--where local|node|both]");
            return 2;
        }

        string unit = large ? "MiB/s" : "us";
        Console.WriteLine(large
            ? $"8 MiB echo: {count} jobs one at a time after 2 of warm-up, median MiB/s; {rounds} round(s), {where}"
            : $"round trip: {count} identity jobs one at a time after {Math.Max(200, count / 4)} of warm-up, median us, beside the raw blocking round trip; {rounds} round(s), {where}");
        var figures = new Dictionary<string, List<double>>();
        void Record(string what, int round, double value)
        {
            if (!figures.TryGetValue(what, out List<double>? values))
            {
                figures[what] = values = [];
            }

            values.Add(value);
            Console.WriteLine($"  round {round}, {what}: {value.ToString(large ? "N0" : "N1", CultureInfo.InvariantCulture)} {unit}");
        }

        double Measure(JobServer server) => large ? Workloads.Echo8MiB(server, count) : Workloads.RoundTrip(server, count).MedianMicros;
        double Raw(RawTransport.Kind kind) => RawTransport.Measure(kind, RawTransport.Style.Sync, roundTrips: 20_000, echoes: 1, batchedFrames: 1).RoundTripMicros.MedianMicros;
        for (int round = 1; round <= rounds; round++)
        {
            if (where is "local" or "both")
            {
                if (!large)
                {
                    Record("raw unix", round, Raw(RawTransport.Kind.Unix));
                }

                using var server = new JobServer(Workers);
                Record("local", round, Measure(server));
            }

            if (where is "node" or "both")
            {
                if (!large)
                {
                    Record("raw tcp", round, Raw(RawTransport.Kind.Tcp));
                }

                using PpServer node = PpServer.Start(Workers);
                using var server = new JobServer(0, ppservers: [node.EndPoint], secret: node.Secret);
                Record("node", round, Measure(server));
            }
        }

        string Summary(List<double> values) =>
            $"median {values.Order().ElementAt(values.Count / 2).ToString(large ? "N0" : "N1", CultureInfo.InvariantCulture)} {unit} (rounds: {string.Join(", ", values.Select(v => v.ToString(large ? "N0" : "N1", CultureInfo.InvariantCulture)))})";
        Console.WriteLine(string.Join("; ", figures.Select(f => $"{f.Key} {Summary(f.Value)}")));
        return 0;
    }

    private static string StringOption(string[] args, string name, string fallback)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
    }

    private static int IntOption(string[] args, string name, int fallback) =>
        int.TryParse(StringOption(args, name, fallback.ToString(CultureInfo.InvariantCulture)), NumberStyles.None, CultureInfo.InvariantCulture, out int value) ? value : -1;
}
