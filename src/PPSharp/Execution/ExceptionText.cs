namespace PPSharp.Execution;

/// <summary>
/// Reads what can be read of an exception a job threw, whatever its getters do: a <c>Message</c> or <c>StackTrace</c>
/// getter that throws must not take the worker down with it.
/// </summary>
internal static class ExceptionText
{
    public static string TypeName(Exception error) => error.GetType().FullName ?? error.GetType().Name;

    public static string Message(Exception error) =>
        Read(() => error.Message) ?? $"(the {TypeName(error)}'s Message threw)";

    /// <summary>The stack trace, else what <c>ToString</c> gives, else a note that neither could be read.</summary>
    public static string StackTrace(Exception error) =>
        Read(() => error.StackTrace) ?? Read(error.ToString) ?? $"(the {TypeName(error)}'s StackTrace and ToString threw)";

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1031", Justification = "Anything a job's exception throws is caught: the worker must survive it.")]
    private static string? Read(Func<string?> property)
    {
        try
        {
            return property();
        }
        catch (Exception)
        {
            return null;
        }
    }
}
