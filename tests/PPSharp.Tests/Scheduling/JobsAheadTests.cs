using PPSharp.Scheduling;
using PPSharp.Workers;

namespace PPSharp.Tests.Scheduling;

/// <summary>
/// In memory: how many jobs a slot holds ahead of its running one. One for a function never seen; for a function
/// that proved short, enough to cover the time a worker gathers answers, up to a limit; fewer when the bodies are
/// large, so what a worker holds stays bounded in bytes; never less than one.
/// </summary>
public sealed class JobsAheadTests
{
    private static FunctionDefinition Observed(TimeSpan length, int jobs = 20)
    {
        var function = new FunctionDefinition(1, [0]);
        for (int i = 0; i < jobs; i++)
        {
            function.Observe(length);
        }

        return function;
    }

    [Fact]
    public void AFunctionNeverSeen_HoldsOneJobAhead()
    {
        var function = new FunctionDefinition(1, [0]);
        Assert.Equal(1, function.AheadPerSlotFor(16));
        Assert.False(function.IsShort);
    }

    [Fact]
    public void TinyJobs_HoldTheMostAhead_AndLongOnesOne()
    {
        Assert.Equal(FunctionDefinition.MaxAheadPerSlot, Observed(TimeSpan.FromMicroseconds(1)).AheadPerSlotFor(16));
        Assert.Equal(FunctionDefinition.MaxAheadPerSlot, Observed(TimeSpan.FromMicroseconds(100)).AheadPerSlotFor(16));
        int oneMs = Observed(TimeSpan.FromMilliseconds(1)).AheadPerSlotFor(16);
        Assert.InRange(oneMs, 8, 32); // about 16 ms of them
        Assert.Equal(1, Observed(TimeSpan.FromMilliseconds(50)).AheadPerSlotFor(16));
    }

    [Fact]
    public void LargeBodies_HoldFewerAhead_NeverMoreThanTheByteLimitBeyondOne()
    {
        FunctionDefinition tiny = Observed(TimeSpan.FromMicroseconds(1));
        foreach (int body in new[] { 1 << 10, 64 << 10, 1 << 20, 3 << 20, 8 << 20, 100 << 20, int.MaxValue })
        {
            int ahead = tiny.AheadPerSlotFor(body);
            Assert.InRange(ahead, 1, FunctionDefinition.MaxAheadPerSlot);
            Assert.True(ahead == 1 || (long)ahead * body <= FunctionDefinition.MaxAheadBytesPerSlot, $"{ahead} bodies of {body} bytes held ahead");
        }

        Assert.Equal(8, tiny.AheadPerSlotFor(1 << 20));
        Assert.Equal(1, tiny.AheadPerSlotFor(100 << 20));
        Assert.Equal(FunctionDefinition.MaxAheadPerSlot, tiny.AheadPerSlotFor(0));
    }

    [Fact]
    public void AWorkerGathersAtMostHalfTheJobsASlotHoldsAhead_SoItHasWorkWhileTheServerAnswersABatch()
    {
        Assert.True(2 * WorkerChannelWriter.MaxPendingFrames <= FunctionDefinition.MaxAheadPerSlot);
    }
}
