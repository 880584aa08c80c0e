using PPSharp.Fuzz;

namespace PPSharp.Tests.Security;

/// <summary>
/// Replays the fuzzing corpus kept in <c>fuzz/corpus/&lt;target&gt;/</c> (seeds, and every input AFL++ found that
/// reached new code) through the fuzz targets: each input is refused or read, none throws anything else.
/// </summary>
public sealed class FuzzCorpusReplayUnitTests
{
    private static readonly string Corpus = Path.Combine(AppContext.BaseDirectory, "fuzz-corpus");

    public static TheoryData<string> Targets => [.. FuzzTargets.All.Keys];

    [Theory]
    [MemberData(nameof(Targets))]
    public void EveryKeptInput_IsReadOrRefused(string target)
    {
        string[] inputs = Directory.GetFiles(Path.Combine(Corpus, target));

        Assert.NotEmpty(inputs);
        foreach (string input in inputs)
        {
            Exception? error = Record.Exception(() => FuzzTargets.Run(target, File.ReadAllBytes(input)));
            Assert.True(error is null, $"{target}/{Path.GetFileName(input)}: {error}");
        }
    }
}
