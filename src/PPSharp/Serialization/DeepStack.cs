using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace PPSharp.Serialization;

/// <summary>
/// Makes serialization depth-safe without a depth limit: the recursive formatters check the stack as they go down
/// (<see cref="Check"/>), and a value too deep for the current thread is serialized again, from the start, on a thread
/// with a <see cref="LargeStackSize"/> stack (reserved, committed by the system only as it is used). Ordinary values
/// never leave the calling thread. Workers run their jobs on such a thread from the start.
/// </summary>
internal static class DeepStack
{
    /// <summary>1 GiB: about a million levels of a linked list.</summary>
    public const int LargeStackSize = 1 << 30;

    /// <summary>Throws <see cref="GraphTooDeepException"/> when the stack is nearly used up.</summary>
    public static void Check()
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw new GraphTooDeepException();
        }
    }

    /// <summary>Runs <paramref name="work"/> here; if the value proves too deep for this thread, again on a large stack.</summary>
    public static T Run<T>(Func<T> work) => Run(work, static w => w());

    /// <summary>
    /// Runs <paramref name="work"/> on <paramref name="state"/> here; if the value proves too deep for this thread, again
    /// on a large stack. With a static <paramref name="work"/>, the common case allocates nothing (every Submit takes it).
    /// </summary>
    public static T Run<TState, T>(TState state, Func<TState, T> work)
    {
        try
        {
            return work(state);
        }
        catch (Exception ex) when (IsTooDeep(ex))
        {
            // Start over below, on a thread with room for it.
        }

        try
        {
            return OnLargeStack(state, work);
        }
        catch (Exception ex) when (IsTooDeep(ex))
        {
            throw new PayloadSerializationException($"the object graph is too deep to serialize even on a {LargeStackSize >> 20} MiB stack; send a flatter structure (an array instead of a linked list).");
        }
    }

    /// <summary>A method of its own, so that its closure is allocated only when a value is that deep, not on every call of <see cref="Run{TState, T}"/>.</summary>
    private static T OnLargeStack<TState, T>(TState state, Func<TState, T> work) => OnLargeStack(() => work(state));

    /// <summary>Runs <paramref name="work"/> on a new thread with a large stack and waits for it.</summary>
    public static T OnLargeStack<T>(Func<T> work)
    {
        T result = default!;
        ExceptionDispatchInfo? error = null;
        var thread = new Thread(
            () =>
            {
                try
                {
                    result = work();
                }
                catch (Exception ex)
                {
                    error = ExceptionDispatchInfo.Capture(ex);
                }
            },
            LargeStackSize)
        { Name = "PPSharp deep value", IsBackground = true };
        thread.Start();
        thread.Join();
        error?.Throw();
        return result;
    }

    public static bool IsTooDeep(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is GraphTooDeepException)
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>The stack of the current thread is nearly used up by a deep value; caught by <see cref="DeepStack.Run{T}"/>.</summary>
internal sealed class GraphTooDeepException() : Exception("The value is too deep for this thread's stack.");
