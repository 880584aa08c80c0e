namespace PPSharp.Server;

/// <summary>ppserver's exit codes.</summary>
internal static class ExitCodes
{
    /// <summary>Help printed, or the node stopped by a signal or by its idle timeout.</summary>
    public const int Success = 0;

    /// <summary>The node could not run (the port cannot be bound, the node failed).</summary>
    public const int Failure = 1;

    /// <summary>A bad option, option value or config file: nothing was started.</summary>
    public const int Usage = 2;
}
