namespace PPSharp;

/// <summary>
/// One item of a map (<see cref="JobServer.Map{T, TResult}(Func{T, TResult}, IEnumerable{T}, int, bool, CancellationToken)"/>
/// and its siblings) did not produce a result: thrown when the enumeration reaches that item, naming its index. The
/// other items are unaffected.
/// </summary>
public class MapItemFailedException : JobFailedException
{
    /// <summary>Creates the exception.</summary>
    public MapItemFailedException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public MapItemFailedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public MapItemFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for item <paramref name="index"/>, whose function threw where it ran.</summary>
    public MapItemFailedException(int index, string message, string? remoteType, string? remoteMessage, string? remoteStackTrace, string? node)
        : base(message, remoteType, remoteMessage, remoteStackTrace, node)
    {
        Index = index;
    }

    /// <summary>Creates the exception for item <paramref name="index"/>, whose job failed as a whole (<paramref name="innerException"/>).</summary>
    public MapItemFailedException(int index, Exception innerException)
        : base($"Item {index} of the map failed: {innerException?.Message}", innerException!)
    {
        Index = index;
    }

    /// <summary>The item's position in the sequence given to the map, from 0.</summary>
    public int Index { get; }
}
