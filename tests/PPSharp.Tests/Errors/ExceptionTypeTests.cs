using System.Runtime.CompilerServices;
using PPSharp.Tests.Remote;

namespace PPSharp.Tests.Errors;

/// <summary>A user exception with state of its own: its properties must travel with it.</summary>
public sealed class QuotaExceededException(string message, int limit, string owner) : Exception(message)
{
    public int Limit { get; } = limit;

    public string Owner { get; } = owner;
}

/// <summary>An exception whose Message and StackTrace getters throw: the worker must survive it.</summary>
public sealed class HostileException : Exception
{
    public override string Message => throw new InvalidOperationException("no message for you");

    public override string StackTrace => throw new InvalidOperationException("no trace for you");
}

/// <summary>
/// A job's exception is re-created in the caller as <see cref="Exception.InnerException"/> of the
/// <see cref="JobFailedException"/>, with its own type, message, properties and a clean trace; the same on local
/// workers and on a real ppserver node (see the subclasses).
/// </summary>
public abstract class ExceptionTypeTestsBase : RemoteTestBase
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Divide(int x) => 10 / x;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Quota(int limit) => throw new QuotaExceededException($"over {limit}", limit, "alice");

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Hostile(int x) => throw new HostileException();

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Wrapped(int x)
    {
        try
        {
            return Divide(x);
        }
        catch (DivideByZeroException ex)
        {
            var wrapper = new InvalidOperationException("while dividing", ex);
            wrapper.Data["attempt"] = 3;
            throw wrapper;
        }
    }

    /// <summary>The server under test: local workers, or ncpus 0 and one real node.</summary>
    protected abstract Task<JobServer> CreateServerAsync();

    [Fact]
    public async Task InnerException_IsADivideByZeroException_CatchableByType()
    {
        using JobServer server = await CreateServerAsync();
        Job<int> job = server.Submit(Divide, 0);

        string caught = "nothing";
        try
        {
            await job.Within();
        }
        catch (JobFailedException e) when (e.InnerException is DivideByZeroException)
        {
            caught = "DivideByZeroException";
            Assert.Contains(nameof(Divide), e.InnerException.StackTrace);
            Assert.Equal(new DivideByZeroException().Message, e.InnerException.Message);
        }

        Assert.Equal("DivideByZeroException", caught);
        Assert.Equal("System.DivideByZeroException", Assert.Throws<JobFailedException>(() => job.Result).RemoteType);
    }

    [Fact]
    public async Task InnerException_StackTrace_HasNoPPSharpOrReflectionFrames()
    {
        using JobServer server = await CreateServerAsync();

        JobFailedException error = await Assert.ThrowsAsync<JobFailedException>(() => server.Submit(Divide, 0).Within());

        foreach (string trace in new[] { error.InnerException!.StackTrace!, error.RemoteStackTrace! })
        {
            Assert.Contains(nameof(Divide), trace);
            Assert.DoesNotContain("PPSharp.Execution", trace);
            Assert.DoesNotContain("PPSharp.Workers", trace);
            Assert.DoesNotContain("System.Reflection", trace);
            Assert.DoesNotContain("InvokeStub", trace);
        }
    }

    [Fact]
    public async Task InnerException_IsTheUserExceptionType_WithItsProperties()
    {
        using JobServer server = await CreateServerAsync();

        JobFailedException error = await Assert.ThrowsAsync<JobFailedException>(() => server.Submit(Quota, 42).Within());

        QuotaExceededException quota = Assert.IsType<QuotaExceededException>(error.InnerException);
        Assert.Equal("over 42", quota.Message);
        Assert.Equal(42, quota.Limit);
        Assert.Equal("alice", quota.Owner);
        Assert.Contains(nameof(Quota), quota.StackTrace);
        Assert.Equal(typeof(QuotaExceededException).FullName, error.RemoteType);
        Assert.Equal("over 42", error.RemoteMessage);
    }

    [Fact]
    public async Task InnerException_KeepsItsOwnInnerExceptionAndData()
    {
        using JobServer server = await CreateServerAsync();

        JobFailedException error = await Assert.ThrowsAsync<JobFailedException>(() => server.Submit(Wrapped, 0).Within());

        InvalidOperationException wrapper = Assert.IsType<InvalidOperationException>(error.InnerException);
        Assert.Equal("while dividing", wrapper.Message);
        Assert.IsType<DivideByZeroException>(wrapper.InnerException);
        Assert.Equal(3, Convert.ToInt32(wrapper.Data["attempt"], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task AnExceptionWhoseGettersThrow_FailsTheJob_AndTheWorkerGoesOn()
    {
        using JobServer server = await CreateServerAsync();

        JobFailedException error = await Assert.ThrowsAsync<JobFailedException>(() => server.Submit(Hostile, 1).Within());

        Assert.Equal(typeof(HostileException).FullName, error.RemoteType);
        Assert.IsType<HostileException>(error.InnerException);
        Assert.Equal(49, await server.Submit(Functions.Square, 7).Within());
    }

    [Fact]
    public async Task AnExceptionTypeThatDoesNotExistHere_BecomesARemoteException()
    {
        using JobServer server = await CreateServerAsync();
        var source = new SourceFunction<int, int>(
            "static int F(int x) => throw new LocalOnlyException(\"only there\");",
            depfuncs: ["public sealed class LocalOnlyException(string m) : System.Exception(m);"]);

        JobFailedException error = await Assert.ThrowsAsync<JobFailedException>(() => server.Submit(source, 1).Within());

        RemoteException stand = Assert.IsType<RemoteException>(error.InnerException);
        Assert.Contains("LocalOnlyException", stand.RemoteType);
        Assert.Equal("only there", stand.Message);
        Assert.Contains("LocalOnlyException", error.RemoteType);
    }

    [Fact]
    public async Task AnExceptionReturnedAsAValue_Travels()
    {
        using JobServer server = await CreateServerAsync();

        Exception value = await server.Submit((int n) => (Exception)new QuotaExceededException("as a value", n, "bob"), 5).Within();

        QuotaExceededException quota = Assert.IsType<QuotaExceededException>(value);
        Assert.Equal(("as a value", 5, "bob"), (quota.Message, quota.Limit, quota.Owner));
    }
}

public sealed class LocalExceptionTypeTests : ExceptionTypeTestsBase
{
    protected override Task<JobServer> CreateServerAsync() => Task.FromResult(new JobServer(1));
}

public sealed class RemoteExceptionTypeTests : ExceptionTypeTestsBase
{
    private TestNode? _node;

    protected override async Task<JobServer> CreateServerAsync()
    {
        _node = await StartNodeAsync();
        var server = new JobServer(0, ppservers: [_node.Address], secret: Secret);
        await _node.WaitUntilActiveAsync(server);
        return server;
    }

    public override void Dispose()
    {
        _node?.Dispose();
        base.Dispose();
    }
}
