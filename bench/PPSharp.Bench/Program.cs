// PPSharp's benchmarks (issue 5; docs/performance.md).
//   dotnet run -c Release --project bench/PPSharp.Bench                    the suite: one run, every figure, a table
//   dotnet run -c Release --project bench/PPSharp.Bench -- --json out.json  the same, and the figures as JSON
//   dotnet run -c Release --project bench/PPSharp.Bench -- micro [BenchmarkDotNet options]   the micro-benchmarks
//   dotnet run -c Release --project bench/PPSharp.Bench -- scaling [--quick]   W = 1 … cores + 1 workers, local and on a node
//   ... -- scaling --workers 2 --lengths 0.1 --where local --fixed-only            one row, while chasing one figure
//   dotnet run -c Release --project bench/PPSharp.Bench -- nodes [--count N]   one client, N ppserver nodes: per-node cost
//   dotnet run -c Release --project bench/PPSharp.Bench -- soak [--jobs N] [--kill-every S]   a million jobs while workers are killed
//   dotnet run -c Release --project bench/PPSharp.Bench -- tls [--quick]   remote workloads, plain and over TLS, alternated
//   dotnet run -c Release --project bench/PPSharp.Bench -- large [--rounds N] [--count N] [--where local|node|both]   the 8 MiB echo alone
//   dotnet run -c Release --project bench/PPSharp.Bench -- roundtrip [--rounds N] [--count N] [--where local|node|both]   one job at a time, beside the raw round trip
// The "echo" mode is internal: the suite starts this program as the other end of its raw transport ping-pong.
using BenchmarkDotNet.Running;
using PPSharp.Bench.Suite;

namespace PPSharp.Bench;

internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "micro")
        {
            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args[1..], Micro.MicroConfig.Create());
            return 0;
        }

        if (args.Length > 0 && args[0] == "scaling")
        {
            return Scaling.Run(quick: args.Contains("--quick"), Scaling.Filter.Parse(args[1..]));
        }

        if (args.Length > 0 && args[0] == ManyNodes.Mode)
        {
            return ManyNodes.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == Soak.Mode)
        {
            return Soak.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == TlsCost.Mode)
        {
            return TlsCost.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] is OneFigure.LargeMode or OneFigure.RoundTripMode)
        {
            return OneFigure.Run(args[0], args[1..]);
        }

        if (args.Length > 0 && args[0] == RawTransport.EchoMode)
        {
            return RawTransport.RunEcho(args[1..]);
        }

        if (args.Length > 0 && args[0] is "-h" or "--help")
        {
            Console.WriteLine("usage: PPSharp.Bench [suite] [--json PATH] [--quick]   |   PPSharp.Bench scaling [--quick] [--workers W] [--lengths 0.1,1] [--where local|node] [--fixed-only]   |   PPSharp.Bench micro [BenchmarkDotNet options]   |   PPSharp.Bench nodes [--count N]   |   PPSharp.Bench soak [--jobs N] [--kill-every S] (soak --help for more)   |   PPSharp.Bench tls [--quick]   |   PPSharp.Bench large|roundtrip [--rounds N] [--count N] [--where local|node|both]");
            return 0;
        }

        var options = SuiteOptions.Parse(args[(args.Length > 0 && args[0] == "suite" ? 1 : 0)..]);
        if (options is null)
        {
            Console.Error.WriteLine("usage: PPSharp.Bench [suite] [--json PATH] [--quick]");
            return 2;
        }

        return SuiteRunner.Run(options);
    }
}
