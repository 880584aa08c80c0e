namespace PPSharp.Tests;

/// <summary>Whatever a job throws, even an exception whose own members throw, fails that job only: the worker goes on.</summary>
public sealed class ThrowingExceptionTests
{
    public sealed class HostileException(bool message, bool trace, bool text) : Exception
    {
        public override string Message => message ? throw new InvalidOperationException("Message getter") : "a readable message";

        public override string? StackTrace => trace ? throw new InvalidOperationException("StackTrace getter") : base.StackTrace;

        public override string ToString() => text ? throw new InvalidOperationException("ToString") : "a readable text";
    }

    public static int Throw(bool message, bool trace, bool text) => throw new HostileException(message, trace, text);

    [Theory]
    [InlineData(false, true, false)]
    [InlineData(true, false, false)]
    [InlineData(true, true, true)]
    public async Task AnExceptionWhoseGettersThrow_FailsTheJob_WithWhatCouldBeRead_AndTheWorkerSurvives(bool message, bool trace, bool text)
    {
        using var server = new JobServer(1);
        int before = await server.Submit(() => Environment.ProcessId).Within();

        Job<int> job = server.Submit(Throw, message, trace, text);
        JobFailedException error = await Assert.ThrowsAsync<JobFailedException>(() => job.Within());
        int after = await server.Submit(() => Environment.ProcessId).Within();

        Assert.Equal(before, after); // the same worker process: it did not crash
        Assert.Equal(typeof(HostileException).FullName, error.RemoteType);
        Assert.Equal(message ? "(the PPSharp.Tests.ThrowingExceptionTests+HostileException's Message threw)" : "a readable message", error.RemoteMessage);
        if (trace && text)
        {
            Assert.Contains("StackTrace and ToString threw", error.RemoteStackTrace);
        }
        else if (trace)
        {
            Assert.Equal("a readable text", error.RemoteStackTrace);
        }
        else
        {
            Assert.Contains(nameof(Throw), error.RemoteStackTrace);
        }
    }
}
