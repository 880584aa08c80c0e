using System.Globalization;

namespace PPSharp.Server;

/// <summary>
/// ppft's <c>-P pid_file</c>: the process id, written at start and removed at exit.
/// </summary>
internal sealed class PidFile : IDisposable
{
    private readonly string _path;
    private readonly string _content;
    private bool _removed;

    private PidFile(string path, string content)
    {
        _path = path;
        _content = content;
    }

    public string Path => _path;

    /// <summary>Writes this process's id to <paramref name="path"/>, replacing what was there.</summary>
    /// <exception cref="SettingsException">The file cannot be written; the message names it.</exception>
    public static PidFile Write(string path)
    {
        // A line ending, as ppft's print() leaves, so "kill $(cat file)" and line readers both work.
        string content = Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n";
        try
        {
            File.WriteAllText(path, content);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SettingsException($"cannot write pid file {path}: {e.Message}", e);
        }

        return new PidFile(path, content);
    }

    /// <summary>
    /// Removes the file, unless another process has since written its own id there (a second node started with the
    /// same pid file owns it now). Never throws: failing to remove a pid file must not turn a clean exit into a crash.
    /// </summary>
    public void Dispose()
    {
        if (_removed)
        {
            return;
        }

        _removed = true;
        try
        {
            if (File.Exists(_path) && File.ReadAllText(_path) == _content)
            {
                File.Delete(_path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"ppserver: could not remove pid file {_path}: {e.Message}");
        }
    }
}
