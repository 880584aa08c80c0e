namespace PPSharp.Serialization;

/// <summary>
/// Tracks the objects on the path being serialized on this thread, so that a cycle is reported instead of recursing
/// until the stack overflows (which would kill the process), and bounds the depth of acyclic graphs for the same reason.
/// </summary>
internal static class GraphGuard
{
    /// <summary>The same bound MessagePack applies when reading (<c>MessagePackSecurity.MaximumObjectGraphDepth</c>).</summary>
    public const int MaxDepth = 500;

    [ThreadStatic]
    private static HashSet<object>? t_path;

    public static void Enter(object value)
    {
        HashSet<object> path = t_path ??= new HashSet<object>(ReferenceEqualityComparer.Instance);
        if (path.Count >= MaxDepth)
        {
            throw new PayloadSerializationException(
                $"the object graph is more than {MaxDepth} levels deep; send a flatter structure (for example an array instead of a long linked list).");
        }

        if (!path.Add(value))
        {
            throw new PayloadSerializationException(
                $"the object graph has a cycle (an object of type {Display.TypeName(value.GetType())} refers back to itself); cyclic graphs cannot be sent.");
        }
    }

    public static void Exit(object value) => t_path!.Remove(value);

    /// <summary>Clears the path after a failed serialization, so the next one on this thread starts clean.</summary>
    public static void Reset() => t_path?.Clear();
}
