namespace PPSharp.Tests.Values;

/// <summary>
/// Deep values travel (no depth limit a linked list hits), shared objects and cycles through objects arrive as they
/// were, and a collection inside itself is refused with a short message whose path is abbreviated, through a real worker.
/// </summary>
public sealed class DeepGraphTests
{
    private const int Length = 100_000;

    private static Node Chain(int length)
    {
        var head = new Node { Value = 0 };
        Node tail = head;
        for (int i = 1; i < length; i++)
        {
            tail.Next = new Node { Value = i };
            tail = tail.Next;
        }

        return head;
    }

    private static int Count(Node? node)
    {
        int count = 0;
        for (; node is not null; node = node.Next)
        {
            count++;
        }

        return count;
    }

    [Fact]
    public async Task ALinkedListOf100000Nodes_TravelsToTheWorkerAndBack()
    {
        using var server = new JobServer(1);

        Assert.Equal(Length, await server.Submit(Count, Chain(Length)).Within());
        Node back = await server.Submit((int n) => Chain(n), Length).Within();
        Assert.Equal(Length, Count(back));
        Assert.Equal(Length, Count(await server.Submit(Functions.Echo<Node>, back).Within()));
    }

    [Fact]
    public async Task ACycleThroughObjects_TravelsAsTheSameCycle_BothWays()
    {
        using var server = new JobServer(1);
        Node head = Chain(3);
        head.Next!.Next!.Next = head;

        Assert.Equal(3, await server.Submit(CountRing, head).Within());
        Node back = await server.Submit(Functions.Echo<Node>, head).Within();

        Assert.Same(back, back.Next!.Next!.Next);
        Assert.Equal([0, 1, 2], new[] { back.Value, back.Next.Value, back.Next.Next.Value });
    }

    [Fact]
    public async Task AnObjectReachedTwice_ArrivesAsOneObject_InOneArgument_AcrossArguments_AndInTheResult()
    {
        using var server = new JobServer(1);
        var shared = new Node { Value = 7 };
        var list = new List<int> { 1, 2 };

        Assert.True(await server.Submit((Pair p) => ReferenceEquals(p.First, p.Second), new Pair(shared, shared)).Within());
        Assert.False(await server.Submit((Pair p) => ReferenceEquals(p.First, p.Second), new Pair(shared, new Node { Value = 7 })).Within());
        Assert.True(await server.Submit((Node a, Node b) => ReferenceEquals(a, b), shared, shared).Within());
        Assert.True(await server.Submit((List<int> a, object b) => ReferenceEquals(a, b), list, (object)list).Within());

        // A list mutated through one field is seen through the other: the worker got one list, not two copies.
        Assert.Equal(3, await server.Submit((Pair p) => { ((List<int>)p.First.Tag!).Add(3); return ((List<int>)p.Second.Tag!).Count; },
            new Pair(new Node { Tag = list }, new Node { Tag = list })).Within());

        Node[] back = await server.Submit((int n) => { var one = new Node { Value = n }; return new[] { one, one, new Node { Value = n } }; }, 5).Within();
        Assert.Same(back[0], back[1]);
        Assert.NotSame(back[0], back[2]);
    }

    [Fact]
    public async Task ACollectionThatContainsItself_IsRefusedAtSubmit_WithAShortMessage()
    {
        using var server = new JobServer(1);
        var items = new List<object> { 1 };
        items.Add(items);

        ArgumentException error = Assert.Throws<ArgumentException>(() => server.Submit((List<object> l) => l.Count, items));

        Assert.Contains("cycle", error.Message);
        Assert.Contains("List", error.Message);
        Assert.True(error.Message.Length < 1024, error.Message);
        Assert.Equal(3, await server.Submit(Count, Chain(3)).Within());
    }

    [Fact]
    public void AFailureAtTheEndOfALongList_IsRefused_WithTheMiddleOfThePathLeftOut()
    {
        using var server = new JobServer(1);
        Node head = Chain(Length);
        Node tail = head;
        while (tail.Next is not null)
        {
            tail = tail.Next;
        }

        var items = new List<object> { 1 };
        items.Add(items);
        tail.Tag = items;

        ArgumentException error = Assert.Throws<ArgumentException>(() => server.Submit(Count, head));

        Assert.Contains("cycle", error.Message);
        Assert.Contains("left out", error.Message);
        Assert.True(error.Message.Length < 1024, $"{error.Message.Length} characters: {error.Message[..Math.Min(2000, error.Message.Length)]}");
    }

    private static int CountRing(Node head)
    {
        int count = 1;
        for (Node? node = head.Next; node is not null && !ReferenceEquals(node, head); node = node.Next)
        {
            count++;
        }

        return count;
    }
}

/// <summary>Two nodes, which may be one.</summary>
public sealed record Pair(Node First, Node Second);
