using System.Runtime.CompilerServices;

namespace PPSharp.Tests;

/// <summary>Behaviour 3: a job that throws fails with JobFailedException carrying type, message, stack; the worker goes on.</summary>
public sealed class RemoteExceptionTests
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int ThrowInvalidOperation(int x) => throw new InvalidOperationException($"bad value {x}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int ThrowCustom(string message) => throw new CustomJobException(message);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static async Task<int> ThrowAfterAwaitAsync(int x)
    {
        await Task.Yield();
        throw new ArgumentOutOfRangeException(nameof(x), x, "too big");
    }

    [Fact]
    public async Task Result_ThrowsJobFailedExceptionWithRemoteDetails_WhenJobThrows()
    {
        using var server = new JobServer(1);
        Job<int> job = server.Submit(ThrowInvalidOperation, 5);
        await Assert.ThrowsAsync<JobFailedException>(() => job.Within());

        JobFailedException error = Assert.Throws<JobFailedException>(() => job.Result);

        Assert.Equal("System.InvalidOperationException", error.RemoteType);
        Assert.Equal("bad value 5", error.RemoteMessage);
        Assert.Contains(nameof(ThrowInvalidOperation), error.RemoteStackTrace);
        Assert.Equal("local", error.Node);
        Assert.Contains("bad value 5", error.Message);
    }

    [Fact]
    public async Task Await_ThrowsJobFailedExceptionWithRemoteDetails_WhenJobThrows()
    {
        using var server = new JobServer(1);
        Job<int> job = server.Submit(ThrowInvalidOperation, 6);

        JobFailedException error = await Assert.ThrowsAsync<JobFailedException>(async () => await job);

        Assert.Equal("System.InvalidOperationException", error.RemoteType);
        Assert.Equal("bad value 6", error.RemoteMessage);
        Assert.Contains(nameof(ThrowInvalidOperation), error.RemoteStackTrace);
    }

    [Fact]
    public async Task AsTask_ThrowsJobFailedException_WhenJobThrows()
    {
        using var server = new JobServer(1);
        Job<int> job = server.Submit(ThrowInvalidOperation, 7);

        JobFailedException error = await Assert.ThrowsAsync<JobFailedException>(() => job.Within());

        Assert.Equal("bad value 7", error.RemoteMessage);
        Assert.True(job.IsCompleted);
    }

    [Fact]
    public async Task Await_ReportsUserExceptionTypeFullName_WhenJobThrowsCustomException()
    {
        using var server = new JobServer(1);
        Job<int> job = server.Submit(ThrowCustom, "custom failure");

        JobFailedException error = await Assert.ThrowsAsync<JobFailedException>(() => job.Within());

        Assert.Equal(typeof(CustomJobException).FullName, error.RemoteType);
        Assert.Equal("custom failure", error.RemoteMessage);
        Assert.Contains(nameof(ThrowCustom), error.RemoteStackTrace);
    }

    [Fact]
    public async Task Await_ReportsException_WhenAsyncJobThrowsAfterAwait()
    {
        using var server = new JobServer(1);
        Job<int> job = server.Submit(ThrowAfterAwaitAsync, 99);

        JobFailedException error = await Assert.ThrowsAsync<JobFailedException>(() => job.Within());

        Assert.Equal("System.ArgumentOutOfRangeException", error.RemoteType);
        Assert.Contains("too big", error.RemoteMessage);
        Assert.Contains(nameof(ThrowAfterAwaitAsync), error.RemoteStackTrace);
    }

    [Fact]
    public async Task Await_ThrowsJobFailedException_WhenActionJobThrows()
    {
        using var server = new JobServer(1);
        Job job = server.Submit((string s) => throw new FormatException(s), "unparseable");

        JobFailedException error = await Assert.ThrowsAsync<JobFailedException>(() => job.Within());

        Assert.Equal("System.FormatException", error.RemoteType);
        Assert.Equal("unparseable", error.RemoteMessage);
    }

    [Fact]
    public async Task Submit_RunsNextJobOnSameWorker_AfterAJobThrew()
    {
        using var server = new JobServer(1);
        Job<int> failing = server.Submit(ThrowInvalidOperation, 1);
        Job<int> failingPid = server.Submit(Functions.Pid);
        await Assert.ThrowsAsync<JobFailedException>(() => failing.Within());
        int pidBefore = await failingPid.Within();

        Job<int> next = server.Submit(Functions.Square, 12);
        Job<int> pidAfter = server.Submit(Functions.Pid);

        Assert.Equal(144, await next.Within());
        Assert.Equal(pidBefore, await pidAfter.Within());
    }

    [Fact]
    public async Task Result_ThrowsJobFailedException_EachTimeItIsRead()
    {
        using var server = new JobServer(1);
        Job<int> job = server.Submit(ThrowInvalidOperation, 2);
        await Assert.ThrowsAsync<JobFailedException>(() => job.Within());

        Assert.Throws<JobFailedException>(() => job.Result);
        Assert.Throws<JobFailedException>(() => job.Result);
    }
}
