namespace PPSharp.Tests.Support;

/// <summary>Functions that jobs run (static methods, generic methods).</summary>
public static class Functions
{
    public static int Square(int x) => x * x;

    public static T Echo<T>(T value) => value;

    /// <summary>Length and SHA-256 of bytes: what a job saw of a large argument, in a few dozen bytes back.</summary>
    public static string Digest(byte[] bytes) => $"{bytes.Length}:{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes))}";

    /// <summary>Arrays of random bytes of the given sizes, each from its own seed (<paramref name="seed"/> + its index).</summary>
    public static byte[][] RandomArrays(int seed, IEnumerable<int> sizes) => [.. sizes.Select((size, i) =>
    {
        var bytes = new byte[size];
        new Random(seed + i).NextBytes(bytes);
        return bytes;
    })];

    public static (T1 First, T2 Second) Pair<T1, T2>(T1 first, T2 second) => (first, second);

    public static List<T> Repeat<T>(T value, int count) => Enumerable.Repeat(value, count).ToList();

    public static bool IsPrime(int n)
    {
        if (n < 2)
        {
            return false;
        }

        for (int d = 2; (long)d * d <= n; d++)
        {
            if (n % d == 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>ppft's sum_primes: the sum of the primes below n.</summary>
    public static long SumPrimes(int n)
    {
        long sum = 0;
        for (int i = 2; i < n; i++)
        {
            if (IsPrime(i))
            {
                sum += i;
            }
        }

        return sum;
    }

    public static int Pid() => Environment.ProcessId;
}

/// <summary>A bound instance method's target: its private state must travel with the job.</summary>
public sealed class Multiplier(int factor)
{
    private readonly int factor = factor;
    private readonly List<int> history = [];

    public int Times(int x)
    {
        history.Add(x);
        return x * factor;
    }

    public string Describe(string prefix) => $"{prefix}x{factor}";
}

public sealed record Point(int X, int Y);

public sealed record Shape(string Name, IReadOnlyList<Point> Corners, Dictionary<string, double> Tags);

public readonly record struct Money(decimal Amount, string Currency);

/// <summary>A user class with private fields and get-only properties set only by its constructor.</summary>
public sealed class Account
{
    private readonly string owner;
    private decimal balance;
    private readonly List<string> ledger = [];

    public Account(string owner, decimal opening)
    {
        this.owner = owner;
        balance = opening;
        Created = new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        ledger.Add($"open {opening}");
    }

    public string Owner => owner;

    public decimal Balance => balance;

    public DateTime Created { get; }

    public IReadOnlyList<string> Ledger => ledger;

    public void Deposit(decimal amount)
    {
        balance += amount;
        ledger.Add($"deposit {amount}");
    }
}

/// <summary>An internal (non-public) user type with only private state.</summary>
internal sealed class Secret
{
    private readonly int code;
    private readonly string label;

    public Secret(int code, string label)
    {
        this.code = code;
        this.label = label;
    }

    public int Code => code;

    public string Label => label;
}

/// <summary>A nested object graph: an order with a customer, an address and lines, sharing one product.</summary>
public sealed class Order
{
    public required Customer Customer { get; init; }

    public required List<OrderLine> Lines { get; init; }

    public Dictionary<string, List<int>> Notes { get; init; } = [];
}

public sealed class Customer
{
    public required string Name { get; init; }

    public required Address Address { get; init; }
}

public sealed class Address
{
    public required string Street { get; init; }

    public required string City { get; init; }
}

public sealed class OrderLine
{
    public required Product Product { get; init; }

    public int Quantity { get; set; }
}

public sealed class Product
{
    public required string Sku { get; init; }

    public decimal Price { get; init; }
}

/// <summary>A node that can form a cycle.</summary>
public sealed class Node
{
    public int Value { get; set; }

    public Node? Next { get; set; }

    public object? Tag { get; set; }
}

public sealed class CustomJobException(string message) : Exception(message);

public abstract class Animal
{
    public required string Name { get; init; }

    public abstract string Sound();
}

public sealed class Dog : Animal
{
    public required string Breed { get; init; }

    public override string Sound() => $"{Name} the {Breed} says woof";
}

/// <summary>A struct with only private fields.</summary>
public readonly struct Fraction
{
    private readonly long numerator;
    private readonly long denominator;

    public Fraction(long numerator, long denominator)
    {
        this.numerator = numerator;
        this.denominator = denominator;
    }

    public double Value => (double)numerator / denominator;

    public override string ToString() => $"{numerator}/{denominator}";
}

/// <summary>A user class that holds something that cannot travel.</summary>
public sealed class StreamHolder
{
    public required string Name { get; init; }

    public required Stream Sink { get; init; }
}
