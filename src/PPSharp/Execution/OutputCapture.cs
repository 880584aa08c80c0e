using System.Text;

namespace PPSharp.Execution;

/// <summary>
/// Replaces <see cref="Console.Out"/> and <see cref="Console.Error"/> in a worker so that what a job writes is kept
/// per job (both streams in the order written, each part marked with its stream, see <see cref="ConsoleText"/>) and
/// sent back with its result, as ppft does. The real stdout is never the job channel, so even raw writes to the
/// stdout handle cannot corrupt it; they go to the worker's own stdout.
/// </summary>
/// <remarks>
/// A job's output is bounded (<see cref="JobServerOptions.MaxJobOutputSize"/>): past the limit the first half and
/// the last half are kept, and a line on standard error between them says how much was cut, so a job that prints
/// without end costs a bounded amount of memory here, on the node and in the caller.
/// </remarks>
internal sealed class OutputCapture
{
    private readonly Lock _gate = new();
    private readonly TextWriter _fallback;
    private readonly List<(int Start, int End)> _errorRuns = [];
    private readonly int _headLimit;
    private readonly int _tailLimit;
    private readonly LinkedList<(bool Error, string Text)> _tail = new();
    private StringBuilder? _current;
    private int _tailLength;
    private long _cut;
    private bool _capturing;

    private OutputCapture(TextWriter fallback, int limit)
    {
        _fallback = fallback;
        _headLimit = limit - (limit / 2);
        _tailLimit = limit / 2;
    }

    /// <param name="limit">The most characters of a job's output kept (head and tail), at least 2.</param>
    public static OutputCapture Install(int limit)
    {
        var capture = new OutputCapture(Console.Out, Math.Max(2, limit));
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
            if (_cut > 0 || _tail.Count > 0)
            {
                long kept = _current!.Length + _tailLength;
                AppendHead($"{Environment.NewLine}[PPSharp: {_cut:N0} characters of this job's output were cut here; the first {_current.Length:N0} and the last {_tailLength:N0} of {kept + _cut:N0} are kept (JobServerOptions.MaxJobOutputSize)]{Environment.NewLine}", error: true);
                foreach ((bool error, string text) in _tail)
                {
                    AppendHead(text, error);
                }
            }

            string? encoded = _current is { Length: > 0 } sb ? ConsoleText.Encode(sb.ToString(), _errorRuns) : null;
            _current = null;
            _errorRuns.Clear();
            _tail.Clear();
            _tailLength = 0;
            _cut = 0;
            _capturing = false;
            return encoded;
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
            int room = _headLimit - sb.Length;
            if (room >= value.Length && _tail.Count == 0)
            {
                AppendHead(value, error);
                return;
            }

            if (room > 0 && _tail.Count == 0)
            {
                AppendHead(value[..room], error);
                value = value[room..];
            }

            AppendTail(value, error);
        }
    }

    /// <summary>Past the head: keeps the last <see cref="_tailLimit"/> characters, counting what falls out.</summary>
    private void AppendTail(string value, bool error)
    {
        if (value.Length >= _tailLimit)
        {
            _cut += _tailLength + value.Length - _tailLimit;
            _tail.Clear();
            _tail.AddLast((error, value[^_tailLimit..]));
            _tailLength = _tailLimit;
            return;
        }

        _tail.AddLast((error, value));
        _tailLength += value.Length;
        while (_tailLength > _tailLimit)
        {
            (bool firstError, string first) = _tail.First!.Value;
            int over = _tailLength - _tailLimit;
            _tail.RemoveFirst();
            if (first.Length > over)
            {
                _tail.AddFirst((firstError, first[over..]));
                _tailLength -= over;
                _cut += over;
            }
            else
            {
                _tailLength -= first.Length;
                _cut += first.Length;
            }
        }
    }

    private void AppendHead(string value, bool error)
    {
        StringBuilder sb = _current!;
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
