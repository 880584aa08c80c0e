namespace PPSharp.Serialization;

/// <summary>
/// A value could not be turned into bytes (or back), with the path of fields that led to it, so the message can say
/// which captured variable, argument or field is at fault. A long path (a deep linked list) is abbreviated to its
/// outermost and innermost steps, so the message stays short however deep the value was.
/// </summary>
internal sealed class PayloadSerializationException : Exception
{
    /// <summary>Steps kept at each end of a long path.</summary>
    private const int Kept = 3;

    private readonly List<string> _innermost = [];
    private readonly Queue<string> _outermost = new();
    private int _steps;

    public PayloadSerializationException(string reason, Exception? inner = null)
        : base(reason, inner)
    {
        Reason = reason;
    }

    public string Reason { get; }

    /// <summary>
    /// True once the innermost steps are recorded: the levels between them and the outermost caller stop catching
    /// this exception (see <see cref="IsSaturated"/>), so a failure deep in a long list unwinds in one pass instead of
    /// being caught and thrown again at every level.
    /// </summary>
    public bool Saturated => _innermost.Count >= Kept;

    /// <summary>Whether <paramref name="ex"/> carries a path whose middle is being skipped: intermediate levels let it pass.</summary>
    public static bool IsSaturated(Exception ex) => Find(ex) is { Saturated: true };

    /// <summary>Outermost first: "argument 1", "field 'items' of Basket", ...; the middle of a long path is left out.</summary>
    public IReadOnlyList<string> Path => [.. _outermost.Reverse(), .. Enumerable.Reverse(_innermost)];

    public override string Message
    {
        get
        {
            if (_steps == 0)
            {
                return Reason;
            }

            string[] outer = [.. _outermost.Reverse()];
            string[] inner = [.. Enumerable.Reverse(_innermost)];
            string path = Saturated && outer.Length > 0
                ? $"{string.Join(" → ", outer)} → … (more steps left out) … → {string.Join(" → ", inner)}"
                : string.Join(" → ", outer.Concat(inner));
            return $"{path}: {Reason}";
        }
    }

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

    /// <summary>Adds an enclosing step; called as the exception unwinds (innermost first), in constant time.</summary>
    public PayloadSerializationException At(string step)
    {
        _steps++;
        if (_innermost.Count < Kept)
        {
            _innermost.Add(step);
            return this;
        }

        _outermost.Enqueue(step);
        if (_outermost.Count > Kept)
        {
            _outermost.Dequeue();
        }

        return this;
    }
}
