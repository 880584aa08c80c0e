using System.Globalization;

namespace PPSharp.Server;

/// <summary>
/// A small file this process writes and removes at exit: ppft's <c>-P pid_file</c> (the process id, written at
/// start) and <c>-o address_file</c> (the address clients reach the node at, written once it listens).
/// </summary>
internal sealed class PidFile : IDisposable
{
    private readonly string _path;
    private readonly string _content;
    private readonly string _what;
    private bool _removed;

    private PidFile(string path, string content, string what)
    {
        _path = path;
        _content = content;
        _what = what;
    }

    public string Path => _path;

    /// <summary>Writes this process's id to <paramref name="path"/>, replacing what was there.</summary>
    /// <exception cref="SettingsException">The file cannot be written; the message names it.</exception>
    public static PidFile Write(string path) =>
        // A line ending, as ppft's print() leaves, so "kill $(cat file)" and line readers both work.
        Write(path, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n", "pid file");

    /// <summary>
    /// Writes <paramref name="content"/> to <paramref name="path"/> whole: into a temporary file beside it, then
    /// renamed over it, so a reader polling the path (on a shared file system, say) never sees half of it.
    /// </summary>
    /// <exception cref="SettingsException">The file cannot be written; the message names it as <paramref name="what"/>.</exception>
    public static PidFile Write(string path, string content, string what)
    {
        string temporary = $"{path}.{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}.tmp";
        try
        {
            File.WriteAllText(temporary, content);
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(temporary);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // Nothing more to do: the error below names the file that could not be written.
            }

            throw new SettingsException($"cannot write {what} {path}: {e.Message}", e);
        }

        return new PidFile(path, content, what);
    }

    /// <summary>
    /// Removes the file, unless another process has since written its own content there (a second node started with
    /// the same file owns it now). Never throws: failing to remove a pid file must not turn a clean exit into a crash.
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
            Console.Error.WriteLine($"ppserver: could not remove {_what} {_path}: {e.Message}");
        }
    }
}
