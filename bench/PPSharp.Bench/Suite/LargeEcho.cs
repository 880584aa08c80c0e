using System.Globalization;

namespace PPSharp.Bench.Suite;

/// <summary>
/// The suite's 8 MiB echo alone, locally (<c>new JobServer(2)</c>) and through a <c>ppserver -w 2</c> on loopback,
/// alternated round by round so both see the same machine: for chasing that one figure, whose spread on this machine
/// is wide (one job takes 15 to 170 ms), without running the whole suite.
/// </summary>
internal static class LargeEcho
{
    public const string Mode = "large";

    private const int Workers = 2;

    public static int Run(string[] args)
    {
        int rounds = IntOption(args, "--rounds", 3);
        int echoes = IntOption(args, "--count", 20);
        string where = StringOption(args, "--where", "both");
        if (rounds < 1 || echoes < 1 || where is not ("local" or "node" or "both"))
        {
            Console.Error.WriteLine("usage: PPSharp.Bench large [--rounds N] [--count N] [--where local|node|both]");
            return 2;
        }

        Console.WriteLine($"8 MiB echo: {echoes} jobs one at a time after 2 of warm-up, median MiB/s; {rounds} round(s), {where}");
        var local = new List<double>();
        var remote = new List<double>();
        for (int round = 1; round <= rounds; round++)
        {
            if (where is "local" or "both")
            {
                using var server = new JobServer(Workers);
                local.Add(Workloads.Echo8MiB(server, echoes));
                Console.WriteLine($"  round {round}, local: {local[^1]:N0} MiB/s");
            }

            if (where is "node" or "both")
            {
                using PpServer node = PpServer.Start(Workers);
                using var server = new JobServer(0, ppservers: [node.EndPoint], secret: node.Secret);
                remote.Add(Workloads.Echo8MiB(server, echoes));
                Console.WriteLine($"  round {round}, node:  {remote[^1]:N0} MiB/s");
            }
        }

        static string Summary(List<double> values) =>
            values.Count == 0 ? "-" : $"median {values.Order().ElementAt(values.Count / 2):N0} MiB/s (rounds: {string.Join(", ", values.Select(v => v.ToString("N0", CultureInfo.InvariantCulture)))})";
        Console.WriteLine($"local {Summary(local)}; node {Summary(remote)}");
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
