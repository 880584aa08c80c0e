using MessagePack;
using PPSharp.Protocol;
using PPSharp.Scheduling;
using PPSharp.Serialization;

namespace PPSharp.Mapping;

/// <summary>
/// One job of a map: a run of consecutive items, the function called once per item in the worker. Its result holds an
/// entry per item, so one item's exception fails only that item (see <c>LoadedFunction.RunChunk</c>).
/// </summary>
internal sealed class ChunkJob<TResult> : Job
{
    private ReadOnlyMemory<byte> _result;
    private ItemOutcome[]? _outcomes;

    public ChunkJob(JobServer server, int firstIndex, int count)
        : base(server, JobServer.DefaultGroup, null)
    {
        FirstIndex = firstIndex;
        Count = count;
    }

    /// <summary>The map index of the chunk's first item.</summary>
    public int FirstIndex { get; }

    public int Count { get; }

    private protected override void AcceptResult(ReadOnlyMemory<byte> result) => _result = result;

    /// <summary>The chunk's items in order, each a value or the exception to throw for it (naming its index).</summary>
    /// <remarks>Read once, by the one thread that enumerates the map.</remarks>
    public ItemOutcome[] Outcomes => _outcomes ??= Exception is { } whole ? Shared(whole) : Read();

    /// <summary>The chunk did not run to the end (cancelled, timed out, its worker crashed): every item shares its fate.</summary>
    private ItemOutcome[] Shared(Exception whole)
    {
        var outcomes = new ItemOutcome[Count];
        for (int i = 0; i < Count; i++)
        {
            outcomes[i] = new ItemOutcome(default!, whole is OperationCanceledException ? whole : new MapItemFailedException(FirstIndex + i, whole));
        }

        return outcomes;
    }

    private ItemOutcome[] Read()
    {
        var outcomes = new ItemOutcome[Count];
        var reader = new MessagePackReader(_result);
        MessagePackSerializerOptions options = JobSerializerOptions.Local;
        try
        {
            if (reader.ReadArrayHeader() != Count)
            {
                throw new MessagePackSerializationException("the chunk's answer has the wrong number of items.");
            }

            for (int i = 0; i < Count; i++)
            {
                int entry = reader.ReadArrayHeader();
                if (reader.ReadInt32() == 0 && entry == 2)
                {
                    TResult value = typeof(TResult) == typeof(NoResult)
                        ? SkipValue(ref reader)
                        : options.Resolver.GetFormatterWithVerify<TResult>().Deserialize(ref reader, options);
                    outcomes[i] = new ItemOutcome(value, null);
                }
                else
                {
                    string type = reader.ReadString() ?? "System.Exception";
                    string message = reader.ReadString() ?? string.Empty;
                    string? trace = reader.ReadString();
                    int index = FirstIndex + i;
                    outcomes[i] = new ItemOutcome(default!, new MapItemFailedException(index, $"Item {index} of the map failed on {Node}: {type}: {message}", type, message, trace, Node));
                }
            }
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or PayloadSerializationException or EndOfStreamException)
        {
            var error = new JobFailedException($"The results of map items {FirstIndex} to {FirstIndex + Count - 1} could not be read: {(PayloadSerializationException.Find(ex) ?? ex).Message}", ex);
            for (int i = 0; i < Count; i++)
            {
                outcomes[i] = new ItemOutcome(default!, new MapItemFailedException(FirstIndex + i, error));
            }
        }

        LargeArrays.Shared.Return(_result); // read once: a large chunk's array goes to the next one
        _result = default;
        return outcomes;
    }

    private static TResult SkipValue(ref MessagePackReader reader)
    {
        reader.Skip();
        return default!;
    }

    /// <summary>An item's value, or the exception that its place in the enumeration throws.</summary>
    public readonly record struct ItemOutcome(TResult Value, Exception? Error);
}

/// <summary>The result type of a map over a function that returns nothing.</summary>
internal readonly record struct NoResult;
