using System.Threading.Channels;

namespace PPSharp.Internal;

/// <summary>
/// Runs job callbacks in the caller's process, one at a time in completion order, on a thread-pool thread: never on a
/// channel's read loop, so a slow callback delays other callbacks but never the arrival of results. Running them one
/// at a time means a callback that adds to a shared total needs no lock, as in ppft's callback example.
/// </summary>
internal sealed class CallbackDispatcher
{
    [ThreadStatic]
    private static bool t_inCallback;

    private readonly Channel<Job> _pending = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;

    public CallbackDispatcher()
    {
        _loop = Task.Run(RunAsync);
    }

    /// <summary>True on the thread running a callback (where waiting for other jobs could deadlock).</summary>
    public static bool InCallback => t_inCallback;

    public void Post(Job job)
    {
        if (!_pending.Writer.TryWrite(job))
        {
            job.RunCallback(); // Shutting down: run it here rather than lose the completion.
        }
    }

    /// <summary>Lets the loop end once the callbacks already posted have run (later posts run on the caller).</summary>
    public Task Complete()
    {
        _pending.Writer.TryComplete();
        return _loop;
    }

    private async Task RunAsync()
    {
        await foreach (Job job in _pending.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            t_inCallback = true;
            try
            {
                job.RunCallback();
            }
            finally
            {
                t_inCallback = false;
            }
        }
    }
}
