using BenchmarkDotNet.Configs;

namespace PPSharp.Bench.Micro;

/// <summary>BenchmarkDotNet's defaults; the benchmarks carry <c>[MemoryDiagnoser]</c> themselves. Options such as <c>--job short</c> or <c>--filter</c> come from the command line.</summary>
internal static class MicroConfig
{
    public static IConfig Create() => DefaultConfig.Instance;
}
