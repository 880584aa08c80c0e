using PPSharp.Scheduling;

namespace PPSharp.Tests.Scheduling;

/// <summary>The scheduler's queue, in memory: priorities, first-in first-out, fair turns between owners, cancelled jobs skipped.</summary>
public sealed class JobQueueTests
{
    private static readonly FunctionDefinition Definition = new(1, [0]);

    private sealed class Item(long id, object? owner = null, int priority = 0) : WorkItem(id, Definition, ReadOnlyMemory<byte>.Empty, new WorkSettings(priority))
    {
        public override object? Owner => owner;

        public override void Complete(in WorkOutcome outcome)
        {
        }
    }

    private static List<long> Drain(JobQueue queue)
    {
        var ids = new List<long>();
        while (queue.TryPeek(out WorkItem peeked))
        {
            WorkItem taken = queue.RemoveFirst();
            Assert.Same(peeked, taken);
            ids.Add(taken.Id);
        }

        return ids;
    }

    [Fact]
    public void OneOwner_IsFirstInFirstOut_WithRequeuedJobsAtTheFront()
    {
        var queue = new JobQueue();
        for (int i = 1; i <= 5; i++)
        {
            queue.AddLast(new Item(i));
        }

        queue.AddFirst(new Item(0));
        Assert.Equal(6, queue.Count);
        Assert.Equal([0, 1, 2, 3, 4, 5], Drain(queue));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void HigherPriority_LeavesFirst()
    {
        var queue = new JobQueue();
        queue.AddLast(new Item(1, priority: 0));
        queue.AddLast(new Item(2, priority: -3));
        queue.AddLast(new Item(3, priority: 7));
        queue.AddLast(new Item(4, priority: 0));
        queue.AddLast(new Item(5, priority: 7));
        Assert.Equal([3, 5, 1, 4, 2], Drain(queue));
    }

    [Fact]
    public void Owners_TakeTurns_SoABacklogNeverStarvesAnother()
    {
        var queue = new JobQueue();
        object flood = new(), other = new();
        for (int i = 0; i < 1000; i++)
        {
            queue.AddLast(new Item(i, flood));
        }

        queue.AddLast(new Item(5000, other));
        queue.AddLast(new Item(5001, other));
        List<long> order = Drain(queue);
        Assert.Equal(1002, order.Count);
        Assert.InRange(order.IndexOf(5000), 0, 2);
        Assert.InRange(order.IndexOf(5001), 0, 4);
    }

    [Fact]
    public void CancelledJobs_AreSkipped()
    {
        var queue = new JobQueue();
        var items = Enumerable.Range(0, 4).Select(i => new Item(i)).ToList();
        items.ForEach(queue.AddLast);
        items[0].State = WorkState.Done;
        queue.Forget();
        items[2].State = WorkState.Done;
        queue.Forget();
        Assert.Equal(2, queue.Count);
        Assert.Equal([1, 3], Drain(queue));
    }

    private sealed class Owner : IJobOwner
    {
        public bool HoldsBack { get; set; }
    }

    [Fact]
    public void AnOwnerThatHoldsBack_LosesItsTurns_UntilItLetsGo_AndRemoveAllStillTakesItsJobs()
    {
        var queue = new JobQueue();
        var slow = new Owner { HoldsBack = true };
        var other = new Owner();
        queue.AddLast(new Item(1, slow));
        queue.AddLast(new Item(2, other));
        queue.AddLast(new Item(3, slow));
        queue.AddLast(new Item(4, other));

        Assert.Equal([2, 4], Drain(queue));
        Assert.Equal(2, queue.Count);
        slow.HoldsBack = false;
        Assert.Equal([1, 3], Drain(queue));

        queue.AddLast(new Item(5, slow));
        slow.HoldsBack = true;
        Assert.False(queue.TryPeek(out _));
        Assert.Equal([5], queue.RemoveAll().Select(item => item.Id));
        Assert.Equal(0, queue.Count);
    }
}
