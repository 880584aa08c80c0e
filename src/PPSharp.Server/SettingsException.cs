namespace PPSharp.Server;

/// <summary>
/// A setting that cannot be used: a bad value, a missing or unreadable config file, or a combination that is
/// refused (no secret on a public interface). The message is complete and is shown to the user as is; ppserver
/// then exits with <see cref="ExitCodes.Usage"/> without starting anything.
/// </summary>
internal sealed class SettingsException : Exception
{
    public SettingsException()
    {
    }

    public SettingsException(string message)
        : base(message)
    {
    }

    public SettingsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
