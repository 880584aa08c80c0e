using System.Buffers;
using System.Runtime.InteropServices;
using PPSharp.Protocol;
using PPSharp.Scheduling;

namespace PPSharp.Tests.Scheduling;

/// <summary>
/// In memory: a job's large body goes back for reuse once the job is finished and no connection still has a frame of
/// it to write, never before; a small body, or an initializer's, is never taken for reuse.
/// </summary>
public sealed class WorkItemBodyTests
{
    private const int MiB = 1 << 20;
    private static readonly FunctionDefinition Definition = new(1, [0]);
    private static readonly WorkOutcome Cancelled = WorkOutcome.Cancelled("local", 1);

    /// <summary>A job whose body came from <paramref name="arrays"/>, as <c>Submit</c>'s and a node's do from the process's store.</summary>
    private sealed class Item(byte[] body, LargeArrays arrays) : WorkItem(1, Definition, HeldArray.Take(body, arrays), WorkSettings.Default)
    {
        public int Completions { get; private set; }

        public override void Complete(in WorkOutcome outcome) => Completions++;
    }

    private static byte[] Body(int size)
    {
        byte[] body = new byte[size];
        new Random(size).NextBytes(body);
        return body;
    }

    /// <summary>Writes one queued frame of the item, as a connection's write loop does, and checks it carries the whole body.</summary>
    private static void WriteFrame(WorkItem item, byte[] body)
    {
        var frame = new ArrayBufferWriter<byte>();
        item.WritePayload(frame);
        Assert.True(frame.WrittenSpan.EndsWith(body), "the frame does not end with the job's body");
    }

    [Fact]
    public void AFinishedJobsLargeBody_GoesBack_OnlyAfterEveryFrameOfItQueuedOnAConnectionIsWritten()
    {
        var arrays = new LargeArrays(32 * MiB);
        byte[] body = Body(3 * MiB);
        var item = new Item(body, arrays);
        item.Queued(); // sent to one worker...
        item.Queued(); // ...and again to another, neither frame written yet

        item.Finish(Cancelled);
        Assert.Equal(1, item.Completions);
        Assert.Equal(0, arrays.KeptBytes);

        WriteFrame(item, body);
        Assert.Equal(0, arrays.KeptBytes);

        WriteFrame(item, body);
        Assert.Equal(body.Length, arrays.KeptBytes);
        Assert.Same(body, arrays.Rent(3 * MiB));
    }

    [Fact]
    public void ALargeBodyWhoseFramesAreAllWritten_GoesBack_WhenTheJobFinishes_AndNotBefore()
    {
        var arrays = new LargeArrays(32 * MiB);
        byte[] body = Body((2 * MiB) + 17);
        var item = new Item(body, arrays);
        item.Queued();
        WriteFrame(item, body);
        Assert.Equal(0, arrays.KeptBytes); // it may be sent again (its worker may die): still the job's

        item.Finish(Cancelled);

        Assert.Equal(body.Length, arrays.KeptBytes);
    }

    [Fact]
    public void ASmallBody_IsNotTakenForReuse()
    {
        var arrays = new LargeArrays(32 * MiB);
        byte[] body = Body(LargeArrays.LargeAbove);
        var item = new Item(body, arrays);
        item.Queued();
        WriteFrame(item, body);

        item.Finish(Cancelled);

        Assert.Equal(0, arrays.KeptBytes);
    }

    [Fact]
    public void AnInitializersBody_SentToEveryNewWorker_IsNeverGivenBack()
    {
        var arrays = new LargeArrays(32 * MiB);
        byte[] body = Body(2 * MiB);
        var initializer = new InitializerItem(Definition, HeldArray.Take(body, arrays));
        for (int worker = 0; worker < 3; worker++)
        {
            initializer.Queued();
            WriteFrame(initializer, body);
            initializer.Finish(new WorkOutcome(OutcomeKind.Succeeded, "local")); // each worker's answer
        }

        Assert.Equal(0, arrays.KeptBytes);
    }

    [Fact]
    public void ASmallBody_IsNotHeld()
    {
        byte[] small = Body(LargeArrays.LargeAbove);

        Assert.True(MemoryMarshal.TryGetArray(HeldArray.Take(small, new LargeArrays(32 * MiB)), out ArraySegment<byte> segment));
        Assert.Same(small, segment.Array);
    }
}
