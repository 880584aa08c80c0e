using MessagePack;
using MessagePack.Formatters;

namespace PPSharp.Serialization;

/// <summary>
/// A <see cref="CancellationToken"/> argument travels as nil: whatever token the caller passed means nothing in another
/// process. Where the job runs it reads back as the job's own token (<see cref="JobToken.Current"/>), cancelled when the
/// job is cancelled or reaches its time limit.
/// </summary>
internal sealed class JobTokenFormatter : IMessagePackFormatter<CancellationToken>
{
    public static readonly JobTokenFormatter Instance = new();

    public void Serialize(ref MessagePackWriter writer, CancellationToken value, MessagePackSerializerOptions options) => writer.WriteNil();

    public CancellationToken Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        reader.Skip();
        return JobToken.Current;
    }
}

/// <summary>The token of the job running on this thread in a worker (none elsewhere).</summary>
internal static class JobToken
{
    [ThreadStatic]
    private static CancellationToken t_current;

    public static CancellationToken Current
    {
        get => t_current;
        set => t_current = value;
    }
}
