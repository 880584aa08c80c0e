namespace PPSharp.Execution;

/// <summary>
/// Reads what can be read of an exception a job threw, whatever its getters do: a <c>Message</c> or <c>StackTrace</c>
/// getter that throws must not take the worker down with it.
/// </summary>
internal static class ExceptionText
{
    public static string TypeName(Exception error) => error.GetType().FullName ?? error.GetType().Name;

    public static string Message(Exception error)
    {
        try
        {
            return error.Message;
        }
        catch (Exception ex)
        {
            return $"(its Message threw {ex.GetType().FullName})";
        }
    }

    public static string? StackTrace(Exception error)
    {
        try
        {
            return error.StackTrace;
        }
        catch (Exception ex)
        {
            return $"(its StackTrace threw {ex.GetType().FullName})";
        }
    }
}
