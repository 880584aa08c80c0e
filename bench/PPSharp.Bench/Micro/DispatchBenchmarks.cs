using BenchmarkDotNet.Attributes;
using PPSharp.Protocol;
using PPSharp.Scheduling;

namespace PPSharp.Bench.Micro;

/// <summary>
/// Dispatch: the <c>Scheduler</c> with a trivial executor (capacity 1, like a local worker; its Send does nothing), fed
/// a burst of jobs of a function known to be short, then told each outcome, as the read loop does. Per job: enqueue,
/// dispatch (send-ahead included), complete, dispatch the next. Also the caller's completion of a <c>Job&lt;int&gt;</c>
/// and the reading of its result.
/// </summary>
[MemoryDiagnoser]
public class DispatchBenchmarks
{
    private const int Jobs = 1_000;

    private Scheduler _scheduler = null!;
    private TrivialExecutor _executor = null!;
    private FunctionDefinition _function = null!;
    private byte[] _body = null!;
    private BenchItem[] _items = null!;
    private WorkOutcome _outcome;
    private long _nextId;
    private JobServer _server = null!;

    [GlobalSetup]
    public void Setup()
    {
        _scheduler = new Scheduler(new NodeStatistics(), JobServerOptions.DefaultCancelGracePeriod);
        _executor = new TrivialExecutor();
        _scheduler.AddExecutor(_executor);
        (_function, _body) = FramingBenchmarks.TinyJob();
        _function.Observe(TimeSpan.FromTicks(20)); // proved short: jobs are sent ahead, as in the throughput workload
        _items = new BenchItem[Jobs];
        _outcome = new WorkOutcome(OutcomeKind.Succeeded, "local", TimeSpan.FromTicks(20), null, new byte[] { 42 });
        _server = new JobServer(0);
    }

    [GlobalCleanup]
    public void Cleanup() => _server.Dispose();

    [Benchmark(OperationsPerInvoke = Jobs)]
    public int EnqueueDispatchComplete()
    {
        for (int i = 0; i < Jobs; i++)
        {
            _items[i] = new BenchItem(++_nextId, _function, _body);
            _scheduler.Enqueue(_items[i]);
        }

        int completed = 0;
        for (int i = 0; i < Jobs; i++)
        {
            completed += _scheduler.Complete(_executor, _items[i].Id, _outcome) ? 1 : 0;
        }

        return completed;
    }

    /// <summary>The caller's side of a result: the Job completed (task, group count) and its int result read.</summary>
    [Benchmark]
    public int CompleteJobAndReadResult()
    {
        var job = new Job<int>(_server, JobServer.DefaultGroup, null);
        job.Complete(_outcome);
        return job.Result;
    }

    private sealed class TrivialExecutor : JobExecutor
    {
        public override string Node => "local";

        public override int Capacity => 1;

        internal override void Send(IOutgoingFrame frame)
        {
        }

        internal override void OnDrained()
        {
        }
    }
}
