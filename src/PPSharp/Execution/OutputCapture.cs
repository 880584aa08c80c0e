using System.Text;

namespace PPSharp.Execution;

/// <summary>
/// Replaces <see cref="Console.Out"/> and <see cref="Console.Error"/> in a worker so that what a job writes is kept
/// per job (both streams in the order written, each part marked with its stream, see <see cref="ConsoleText"/>) and
/// sent back with its result, as ppft does. The real stdout is never the job channel, so even raw writes to the
/// stdout handle cannot corrupt it; they go to the worker's own stdout.
/// </summary>
internal sealed class OutputCapture
{
    private readonly Lock _gate = new();
    private readonly TextWriter _fallback;
    private readonly List<(int Start, int End)> _errorRuns = [];
    private StringBuilder? _current;
    private bool _capturing;

    private OutputCapture(TextWriter fallback)
    {
        _fallback = fallback;
    }

    public static OutputCapture Install()
    {
        var capture = new OutputCapture(Console.Out);
        Console.SetOut(new ConsoleWriter(capture, error: false));
        Console.SetError(new ConsoleWriter(capture, error: true));
        return capture;
    }

    public void Begin()
    {
        lock (_gate)
        {
            _capturing = true; // The buffer is made on the first write: most jobs write nothing.
        }
    }

    /// <summary>Ends the current job's capture; returns what it wrote (encoded by <see cref="ConsoleText"/>), or null if nothing.</summary>
    public string? End()
    {
        lock (_gate)
        {
            string? text = _current is { Length: > 0 } sb ? ConsoleText.Encode(sb.ToString(), _errorRuns) : null;
            _current = null;
            _errorRuns.Clear();
            _capturing = false;
            return text;
        }
    }

    private void Append(string? value, bool error)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        lock (_gate)
        {
            if (!_capturing)
            {
                _fallback.Write(value);
                return;
            }

            StringBuilder sb = _current ??= new StringBuilder();
            if (error)
            {
                // Consecutive writes to standard error extend one run.
                int last = _errorRuns.Count - 1;
                if (last >= 0 && _errorRuns[last].End == sb.Length)
                {
                    _errorRuns[last] = (_errorRuns[last].Start, sb.Length + value.Length);
                }
                else
                {
                    _errorRuns.Add((sb.Length, sb.Length + value.Length));
                }
            }

            sb.Append(value);
        }
    }

    private void Flush()
    {
        lock (_gate)
        {
            _fallback.Flush();
        }
    }

    /// <summary>One of the two console streams, writing into the shared capture with its own mark.</summary>
    private sealed class ConsoleWriter(OutputCapture capture, bool error) : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value) => capture.Append(value.ToString(), error);

        public override void Write(string? value) => capture.Append(value, error);

        public override void Write(char[] buffer, int index, int count) => capture.Append(new string(buffer, index, count), error);

        public override void Write(ReadOnlySpan<char> buffer) => capture.Append(new string(buffer), error);

        public override void WriteLine(string? value) => capture.Append(value + Environment.NewLine, error);

        public override void Flush() => capture.Flush();
    }
}
