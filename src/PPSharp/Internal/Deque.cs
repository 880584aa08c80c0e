namespace PPSharp.Internal;

/// <summary>A growable ring buffer: first-in first-out, plus putting items back at the front (for requeued jobs).</summary>
internal sealed class Deque<T>
{
    private T[] _items = new T[16];
    private int _head;

    public int Count { get; private set; }

    public void AddLast(T item)
    {
        Grow();
        _items[(_head + Count) % _items.Length] = item;
        Count++;
    }

    public void AddFirst(T item)
    {
        Grow();
        _head = (_head - 1 + _items.Length) % _items.Length;
        _items[_head] = item;
        Count++;
    }

    public T PeekFirst() => Count > 0 ? _items[_head] : throw new InvalidOperationException("The deque is empty.");

    public T RemoveFirst()
    {
        if (Count == 0)
        {
            throw new InvalidOperationException("The deque is empty.");
        }

        T item = _items[_head];
        _items[_head] = default!;
        _head = (_head + 1) % _items.Length;
        Count--;
        return item;
    }

    public List<T> RemoveAll()
    {
        var all = new List<T>(Count);
        while (Count > 0)
        {
            all.Add(RemoveFirst());
        }

        return all;
    }

    private void Grow()
    {
        if (Count < _items.Length)
        {
            return;
        }

        var bigger = new T[_items.Length * 2];
        for (int i = 0; i < Count; i++)
        {
            bigger[i] = _items[(_head + i) % _items.Length];
        }

        _items = bigger;
        _head = 0;
    }
}
