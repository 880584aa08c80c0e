namespace PPSharp.Tests.Values;

/// <summary>
/// Deep values travel (no depth limit a linked list hits), cycles are refused with a short message whose path is
/// abbreviated, through a real worker.
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
    public async Task ACycle_IsRefusedAtSubmit_WithAShortMessage()
    {
        using var server = new JobServer(1);
        Node head = Chain(3);
        head.Next!.Next!.Next = head;

        ArgumentException error = Assert.Throws<ArgumentException>(() => server.Submit(Count, head));

        Assert.Contains("cycle", error.Message);
        Assert.True(error.Message.Length < 1024, error.Message);
        Assert.Equal(3, await server.Submit(Count, Chain(3)).Within());
    }

    [Fact]
    public void ACycleAtTheEndOfALongList_IsRefused_WithTheMiddleOfThePathLeftOut()
    {
        using var server = new JobServer(1);
        Node head = Chain(Length);
        Node tail = head;
        while (tail.Next is not null)
        {
            tail = tail.Next;
        }

        tail.Next = head;

        ArgumentException error = Assert.Throws<ArgumentException>(() => server.Submit(Count, head));

        Assert.Contains("cycle", error.Message);
        Assert.Contains("left out", error.Message);
        Assert.True(error.Message.Length < 1024, $"{error.Message.Length} characters: {error.Message[..Math.Min(2000, error.Message.Length)]}");
    }
}
