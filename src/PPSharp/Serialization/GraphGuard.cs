namespace PPSharp.Serialization;

/// <summary>
/// Tracks the objects on the path being serialized on this thread, so that a cycle is reported (briefly) instead of
/// recursing without end. Depth itself has no fixed limit: a graph too deep for the current thread's stack is
/// serialized again on a thread with a large stack (see <see cref="DeepStack"/>), so a linked list of 100,000 nodes
/// travels.
/// </summary>
internal static class GraphGuard
{
    [ThreadStatic]
    private static HashSet<object>? t_path;

    public static void Enter(object value)
    {
        DeepStack.Check();
        HashSet<object> path = t_path ??= new HashSet<object>(ReferenceEqualityComparer.Instance);
        if (!path.Add(value))
        {
            throw new PayloadSerializationException(
                $"the object graph has a cycle (an object of type {Display.TypeName(value.GetType())} refers back to itself); cyclic graphs cannot be sent.");
        }
    }

    public static void Exit(object value) => t_path?.Remove(value);

    /// <summary>Clears the path after a failed serialization, so the next one on this thread starts clean.</summary>
    public static void Reset() => t_path?.Clear();
}
