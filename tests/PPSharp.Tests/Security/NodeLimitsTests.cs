using System.Buffers;
using MessagePack;
using PPSharp.Protocol;
using PPSharp.Serialization;
using PPSharp.Tests.Remote;
using Xunit.Abstractions;

namespace PPSharp.Tests.Security;

/// <summary>
/// What one authenticated client can cost a real node: a client that floods it with jobs is read no faster than its
/// jobs finish, and one that does not read its results has none of its jobs started past a bound, while another
/// client is served; in both, the node's peak resident memory stays bounded and every job is answered once.
/// </summary>
public sealed class NodeLimitsTests(ITestOutputHelper output) : RemoteTestBase
{
    private const long MiB = 1 << 20;

    /// <summary>A RunJob frame as a raw client writes it: the library's header, then a body.</summary>
    private sealed class RunJobFrame(long jobId, int functionId, byte[] body) : IOutgoingFrame
    {
        public MessageType Type => MessageType.RunJob;

        public void WritePayload(IBufferWriter<byte> writer)
        {
            new Messages.RunJob(jobId, functionId, Messages.RunFlags.None, 0, 0).Write(writer);
            writer.Write(body);
        }
    }

    private static long PeakResidentBytes(int pid) => ProcStatus(pid, "VmHWM:");

    private static long ResidentBytes(int pid) => ProcStatus(pid, "VmRSS:");

    private static long ProcStatus(int pid, string field)
    {
        string line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field, StringComparison.Ordinal));
        return long.Parse(line[field.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>Sends a BCL function's definition (no code to upload) and returns its id.</summary>
    private static FunctionInfo Define(RawNodeClient raw, Delegate function)
    {
        FunctionInfo info = new FunctionCatalog().Get(function);
        raw.Send(info.Definition);
        return info;
    }

    private static async Task<HashSet<long>> ReadAnswersAsync(RawNodeClient raw, int count, Action<byte[]>? check = null)
    {
        var answered = new HashSet<long>();
        while (answered.Count < count)
        {
            (MessageType type, byte[] payload) = await raw.ReceiveAsync();
            if (type is MessageType.JobSucceeded)
            {
                (long id, PPSharp.Scheduling.WorkOutcome outcome) = Messages.ReadResult(type, new ReadOnlySequence<byte>(payload), "node");
                Assert.True(answered.Add(id), $"job {id} was answered twice");
                check?.Invoke(outcome.Result.ToArray());
            }
            else
            {
                Assert.True(type is MessageType.JobStarted or MessageType.Pong, $"unexpected {type}");
            }
        }

        return answered;
    }

    [Fact]
    public async Task AClientThatFloodsTheNodeWithJobs_IsReadNoFasterThanTheyFinish_AndEveryJobIsAnswered()
    {
        const int Jobs = 200;
        using TestNode node = await StartNodeAsync(workers: 1, extraArguments: ["--max-queued-jobs", "8"]);
        await using RawNodeClient raw = await RawNodeClient.ConnectAsync(node.Port, Secret);
        long baseline = ResidentBytes(node.Pid);

        FunctionInfo info = Define(raw, (Func<string?, bool>)string.IsNullOrEmpty);
        var argument = new string('x', (int)MiB);
        byte[] body = JobPayload.WriteBody(info, null, new JobArguments<string?>(argument)).ToArray();
        for (int id = 1; id <= Jobs; id++)
        {
            raw.Send(new RunJobFrame(id, info.Definition.Id, body)); // 200 MiB in all, as fast as the socket takes it
        }

        HashSet<long> answered = await ReadAnswersAsync(raw, Jobs);

        Assert.Equal(Enumerable.Range(1, Jobs).Select(i => (long)i), answered.Order());
        long grew = PeakResidentBytes(node.Pid) - baseline;
        output.WriteLine($"node peak resident memory: {baseline / MiB} MiB at the start, +{grew / MiB} MiB at the peak");
        Assert.True(grew < 120 * MiB, $"the node's peak resident memory grew by {grew / MiB} MiB while a client sent it {Jobs} MiB of jobs with --max-queued-jobs 8");
    }

    [Fact]
    public async Task AClientThatDoesNotReadItsResults_HasNoMoreOfItsJobsStarted_WhileAnotherIsServed_AndGetsThemAllOnceItReads()
    {
        const int Jobs = 100;
        const int ResultSize = 4 << 20;
        using TestNode node = await StartNodeAsync(workers: 2);
        await using RawNodeClient raw = await RawNodeClient.ConnectAsync(node.Port, Secret);
        long baseline = ResidentBytes(node.Pid);

        FunctionInfo info = Define(raw, (Func<int, bool, byte[]>)GC.AllocateUninitializedArray<byte>);
        byte[] body = JobPayload.WriteBody(info, null, new JobArguments<int, bool>(ResultSize, false)).ToArray();
        raw.PauseReading();
        for (int id = 1; id <= Jobs; id++)
        {
            raw.Send(new RunJobFrame(id, info.Definition.Id, body)); // 400 MiB of results, none of them read for now
        }

        // Another client is served meanwhile, by the same two workers.
        using (var honest = new JobServer(0, ppservers: [node.Address], secret: Secret))
        {
            int[] squares = await Enumerable.Range(0, 40).Select(i => honest.Submit(Functions.Square, i)).AllWithin();
            Assert.Equal(Enumerable.Range(0, 40).Select(i => i * i), squares);
        }

        long grew = PeakResidentBytes(node.Pid) - baseline;
        output.WriteLine($"node peak resident memory: {baseline / MiB} MiB at the start, +{grew / MiB} MiB at the peak");
        Assert.True(grew < 250 * MiB, $"the node's peak resident memory grew by {grew / MiB} MiB while a client left {Jobs * (ResultSize / MiB)} MiB of results unread");

        raw.ResumeReading();
        HashSet<long> answered = await ReadAnswersAsync(raw, Jobs, result => Assert.Equal(ResultSize + 5, result.Length));
        Assert.Equal(Enumerable.Range(1, Jobs).Select(i => (long)i), answered.Order());
    }
}
