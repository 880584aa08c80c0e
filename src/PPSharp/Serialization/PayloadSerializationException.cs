namespace PPSharp.Serialization;

/// <summary>
/// A value could not be turned into bytes (or back), with the path of fields that led to it, so the message can say
/// which captured variable, argument or field is at fault.
/// </summary>
internal sealed class PayloadSerializationException : Exception
{
    private readonly List<string> _path = [];

    public PayloadSerializationException(string reason, Exception? inner = null)
        : base(reason, inner)
    {
        Reason = reason;
    }

    public string Reason { get; }

    /// <summary>Outermost first: "argument 1", "field 'items' of Basket", ...</summary>
    public IReadOnlyList<string> Path => _path;

    public override string Message => _path.Count == 0 ? Reason : $"{string.Join(" → ", _path)}: {Reason}";

    /// <summary>MessagePack wraps what a formatter throws; this digs ours out again.</summary>
    public static PayloadSerializationException? Find(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is PayloadSerializationException found)
            {
                return found;
            }
        }

        return null;
    }

    /// <summary>Adds an enclosing step; called as the exception unwinds, so steps are inserted at the front.</summary>
    public PayloadSerializationException At(string step)
    {
        _path.Insert(0, step);
        return this;
    }
}
