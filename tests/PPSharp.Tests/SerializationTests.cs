using System.Net.Sockets;
using System.Security.Cryptography;

namespace PPSharp.Tests;

/// <summary>Behaviour 2: arguments and results of every usual shape travel; what cannot travel fails clearly.</summary>
public sealed class SerializationTests
{
    [Fact]
    public async Task Submit_RoundTripsPrimitives_WhenEchoed()
    {
        using var server = new JobServer(1);

        Assert.Equal(int.MinValue, await server.Submit(Functions.Echo<int>, int.MinValue).Within());
        Assert.Equal(long.MaxValue, await server.Submit(Functions.Echo<long>, long.MaxValue).Within());
        Assert.Equal(Math.PI, await server.Submit(Functions.Echo<double>, Math.PI).Within());
        Assert.Equal(1.5f, await server.Submit(Functions.Echo<float>, 1.5f).Within());
        Assert.Equal(79228162514264337593543950335m, await server.Submit(Functions.Echo<decimal>, 79228162514264337593543950335m).Within());
        Assert.True(await server.Submit(Functions.Echo<bool>, true).Within());
        Assert.Equal('λ', await server.Submit(Functions.Echo<char>, 'λ').Within());
        Assert.Equal((byte)255, await server.Submit(Functions.Echo<byte>, (byte)255).Within());
        Assert.Equal(ulong.MaxValue, await server.Submit(Functions.Echo<ulong>, ulong.MaxValue).Within());
        var guid = Guid.NewGuid();
        Assert.Equal(guid, await server.Submit(Functions.Echo<Guid>, guid).Within());
        var when = new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc);
        Assert.Equal(when, await server.Submit(Functions.Echo<DateTime>, when).Within());
        Assert.Equal(TimeSpan.FromMinutes(90), await server.Submit(Functions.Echo<TimeSpan>, TimeSpan.FromMinutes(90)).Within());
        Assert.Equal(DayOfWeek.Friday, await server.Submit(Functions.Echo<DayOfWeek>, DayOfWeek.Friday).Within());
        Assert.Equal((int?)null, await server.Submit<int?, int?>(Functions.Echo, null).Within());
    }

    [Fact]
    public async Task Submit_RoundTripsStrings_WhenEchoed()
    {
        using var server = new JobServer(1);
        string unicode = "héllo wörld — 你好 🎉";
        string big = new('x', 1_000_000);

        Assert.Equal(unicode, await server.Submit(Functions.Echo<string>, unicode).Within());
        Assert.Equal(string.Empty, await server.Submit(Functions.Echo<string>, string.Empty).Within());
        Assert.Null(await server.Submit<string?, string?>(Functions.Echo, null).Within());
        Assert.Equal(big, await server.Submit(Functions.Echo<string>, big).Within());
        Assert.Equal("HÉLLO", await server.Submit((string s) => s.ToUpperInvariant(), "héllo").Within());
    }

    [Fact]
    public async Task Submit_RoundTripsArrays_WhenEchoed()
    {
        using var server = new JobServer(1);
        int[] ints = [1, 2, 3, -4];
        string?[] strings = ["a", null, "c"];
        int[][] jagged = [[1], [2, 3], []];
        double[] empty = [];

        Assert.Equal(ints, await server.Submit(Functions.Echo<int[]>, ints).Within());
        Assert.Equal(strings, await server.Submit(Functions.Echo<string?[]>, strings).Within());
        Assert.Equal(jagged, await server.Submit(Functions.Echo<int[][]>, jagged).Within());
        Assert.Empty(await server.Submit(Functions.Echo<double[]>, empty).Within());
        Assert.Equal(10, await server.Submit((int[] a) => a.Sum(), new[] { 1, 2, 3, 4 }).Within());
    }

    [Fact]
    public async Task Submit_RoundTripsMultidimensionalArray_WhenEchoed()
    {
        using var server = new JobServer(1);
        int[,] grid = { { 1, 2, 3 }, { 4, 5, 6 } };

        int[,] back = await server.Submit(Functions.Echo<int[,]>, grid).Within();

        Assert.Equal(grid, back);
    }

    [Fact]
    public async Task Submit_RoundTripsListsAndDictionaries_WhenEchoed()
    {
        using var server = new JobServer(1);
        var list = new List<string> { "x", "y", "z" };
        var dict = new Dictionary<string, int> { ["one"] = 1, ["two"] = 2 };
        var nested = new Dictionary<int, List<string>> { [1] = ["a"], [2] = ["b", "c"] };

        Assert.Equal(list, await server.Submit(Functions.Echo<List<string>>, list).Within());
        Assert.Equal(dict, await server.Submit(Functions.Echo<Dictionary<string, int>>, dict).Within());
        Dictionary<int, List<string>> nestedBack = await server.Submit(Functions.Echo<Dictionary<int, List<string>>>, nested).Within();
        Assert.Equal(nested.Keys.Order(), nestedBack.Keys.Order());
        Assert.Equal(["b", "c"], nestedBack[2]);
        Dictionary<string, int> counts = await server.Submit(
            (List<string> words) => words.GroupBy(w => w).ToDictionary(g => g.Key, g => g.Count()),
            new List<string> { "a", "b", "a" }).Within();
        Assert.Equal(2, counts["a"]);
        Assert.Equal(1, counts["b"]);
    }

    [Fact]
    public async Task Submit_RoundTripsTuples_WhenEchoedOrBuiltInWorker()
    {
        using var server = new JobServer(1);
        (int, string) valueTuple = (1, "one");
        var refTuple = Tuple.Create(2, "two", 3.0);

        Assert.Equal(valueTuple, await server.Submit(Functions.Echo<(int, string)>, valueTuple).Within());
        Assert.Equal(refTuple, await server.Submit(Functions.Echo<Tuple<int, string, double>>, refTuple).Within());
        (int Sum, string Joined) built = await server.Submit((int a, string b) => (a + 1, b + b), 4, "ab").Within();
        Assert.Equal(5, built.Sum);
        Assert.Equal("abab", built.Joined);
    }

    [Fact]
    public async Task Submit_RoundTripsRecords_WhenEchoedOrBuiltInWorker()
    {
        using var server = new JobServer(1);
        var shape = new Shape("tri", [new Point(0, 0), new Point(1, 0), new Point(0, 1)], new Dictionary<string, double> { ["area"] = 0.5 });
        var money = new Money(12.34m, "EUR");

        Shape shapeBack = await server.Submit(Functions.Echo<Shape>, shape).Within();
        Assert.Equal("tri", shapeBack.Name);
        Assert.Equal(shape.Corners, shapeBack.Corners);
        Assert.Equal(0.5, shapeBack.Tags["area"]);
        Assert.Equal(money, await server.Submit(Functions.Echo<Money>, money).Within());
        Assert.Equal(new Point(3, 4), await server.Submit((Point p) => p with { X = p.X + 2 }, new Point(1, 4)).Within());
    }

    [Fact]
    public async Task Submit_RoundTripsUserClass_WhenStateIsInPrivateFieldsAndGetOnlyProperties()
    {
        using var server = new JobServer(1);
        var account = new Account("ada", 100m);

        Account back = await server.Submit((Account a) =>
        {
            a.Deposit(25m);
            return a;
        }, account).Within();

        Assert.Equal("ada", back.Owner);
        Assert.Equal(125m, back.Balance);
        Assert.Equal(account.Created, back.Created);
        Assert.Equal(["open 100", "deposit 25"], back.Ledger);
        Assert.Equal(100m, account.Balance);
    }

    [Fact]
    public async Task Submit_RoundTripsInternalClass_WhenStateIsOnlyInPrivateReadonlyFields()
    {
        using var server = new JobServer(1);

        Secret back = await server.Submit((Secret s) => new Secret(s.Code * 2, s.Label + "!"), new Secret(21, "s")).Within();

        Assert.Equal(42, back.Code);
        Assert.Equal("s!", back.Label);
    }

    [Fact]
    public async Task Submit_RoundTripsNestedGraph_WhenObjectIsShared()
    {
        using var server = new JobServer(1);
        var widget = new Product { Sku = "W-1", Price = 2.5m };
        var order = new Order
        {
            Customer = new Customer { Name = "Grace", Address = new Address { Street = "1 Loop Rd", City = "Arlington" } },
            Lines = [new OrderLine { Product = widget, Quantity = 2 }, new OrderLine { Product = widget, Quantity = 3 }],
            Notes = new Dictionary<string, List<int>> { ["ids"] = [7, 8] },
        };

        Job<decimal> total = server.Submit((Order o) => o.Lines.Sum(l => l.Product.Price * l.Quantity), order);
        Job<Order> back = server.Submit((Order o) =>
        {
            o.Lines.Add(new OrderLine { Product = new Product { Sku = "G-2", Price = 1m }, Quantity = 1 });
            return o;
        }, order);

        Assert.Equal(12.5m, await total.Within());
        Order result = await back.Within();
        Assert.Equal("Arlington", result.Customer.Address.City);
        Assert.Equal(["W-1", "W-1", "G-2"], result.Lines.Select(l => l.Product.Sku));
        Assert.Equal([7, 8], result.Notes["ids"]);
    }

    [Fact]
    public async Task Submit_RoundTripsLargeByteArray_WhenItIs200Megabytes()
    {
        using var server = new JobServer(1);
        var data = new byte[200 * 1024 * 1024];
        new Random(12345).NextBytes(data);
        byte[] expectedHash = SHA256.HashData(data);

        Job<byte[]> echo = server.Submit(Functions.Echo<byte[]>, data);
        byte[] back = await echo.AsTask().WaitAsync(Bounds.Heavy);
        Job<string> hashInWorker = server.Submit((byte[] d) => Convert.ToHexString(SHA256.HashData(d)), data);

        Assert.Equal(data.Length, back.Length);
        Assert.Equal(expectedHash, SHA256.HashData(back));
        Assert.Equal(Convert.ToHexString(expectedHash), await hashInWorker.AsTask().WaitAsync(Bounds.Heavy));
    }

    [Fact]
    public async Task AWorkersFirstJob_DoesNotStartMessagePacksStandardResolvers()
    {
        // Building the options from MessagePackSerializerOptions.Standard initialized MessagePack's standard resolver
        // chain, whose union resolver compiles a regular expression with Reflection.Emit: 15 to 30 ms of every worker's
        // first job for resolvers PPSharp never asks. A plain job must not load what only that chain needs.
        using var server = new JobServer(1);
        string[] loaded = await server.Submit(static () => AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name ?? string.Empty).ToArray()).AsTask().WaitAsync(Bounds.Heavy);

        Assert.Contains("MessagePack", loaded);
        Assert.DoesNotContain("System.Text.RegularExpressions", loaded);
        Assert.DoesNotContain("System.Reflection.Emit.ILGeneration", loaded);
    }

    [Fact]
    public async Task LargeResults_ReadOneAfterAnother_StayIntact_WhenTheirBuffersGoToTheNext()
    {
        // A result over 1 MiB arrives in a reused array, given back once the job's value has been read: the value a
        // caller already holds, a second read of the same job and a map's large items must not change when later
        // results fill that array.
        using var server = new JobServer(1);
        static byte[] Filled(int length, byte value)
        {
            var bytes = new byte[length];
            Array.Fill(bytes, value);
            return bytes;
        }

        const int Size = 3 << 20;
        Job<byte[]> first = server.Submit(Filled, Size, (byte)1);
        byte[] held = await first.AsTask().WaitAsync(Bounds.Heavy);
        for (byte value = 2; value < 6; value++)
        {
            Assert.Equal(Filled(Size - value, value), await server.Submit(Filled, Size - value, value).AsTask().WaitAsync(Bounds.Heavy));
        }

        Assert.True(held.Length == Size && held.All(b => b == 1), "the first result changed after later results were read");
        Assert.Same(held, first.Result);

        byte[][] mapped = [.. server.Map((int i) => Filled((2 << 20) + i, (byte)(10 + i)), Enumerable.Range(0, 6), chunkSize: 2)];
        Assert.Equal(6, mapped.Length);
        for (int i = 0; i < mapped.Length; i++)
        {
            Assert.True(mapped[i].Length == (2 << 20) + i && mapped[i].All(b => b == 10 + i), $"map item {i} is not what its job returned");
        }
    }

    [Fact]
    public async Task LargeArgumentsQueuedTogether_EachReachTheirJobIntact_WhenBuffersAreReused()
    {
        // Bodies over 1 MiB pass through reused arrays in the worker and the client: jobs queued ahead hold several at
        // once, and sizes that shrink and grow make a reused array longer than the body it carries.
        using var server = new JobServer(1);
        int[] sizes = [3 << 20, (2 << 20) + 17, 5 << 20, (1 << 20) + 1, 3 << 20, 4 << 20];
        byte[][] data = Functions.RandomArrays(0, sizes);

        Job<string>[] hashes = [.. data.Select(d => server.Submit(Functions.Digest, d))];
        Job<byte[]>[] echoes = [.. data.Select(d => server.Submit(Functions.Echo<byte[]>, d))];

        for (int i = 0; i < data.Length; i++)
        {
            Assert.Equal(Functions.Digest(data[i]), await hashes[i].AsTask().WaitAsync(Bounds.Heavy));
            Assert.Equal(data[i], await echoes[i].AsTask().WaitAsync(Bounds.Heavy));
        }
    }

    [Fact]
    public async Task LargeJobsCancelledWhileQueued_GiveTheirBuffersToLaterJobs_WhichStillGetTheirOwnArguments()
    {
        // A finished job's large body is reused, but only once no connection still has a frame of it to write: jobs
        // cancelled while queued (some already sent ahead to the worker) give their buffers to the jobs after them,
        // and every job that runs sees exactly its own argument.
        using var gate = new JobGate();
        using var server = new JobServer(1);
        Job<int> blocker = server.Submit(JobGate.ArriveAndWait, gate.Port);
        await gate.NextArrivalAsync();

        byte[][] data = Functions.RandomArrays(1000, Enumerable.Range(0, 12).Select(i => (3 << 20) + ((11 - i) * 4099))); // each fits in the arrays before it
        Job<string>[] first = [.. data[..6].Select(d => server.Submit(Functions.Digest, d))];
        int[] cancelled = [0, 2, 4];
        foreach (int i in cancelled)
        {
            Assert.True(first[i].Cancel());
        }

        Job<string>[] later = [.. data[6..].Select(d => server.Submit(Functions.Digest, d))];
        gate.Open();

        await blocker.AsTask().WaitAsync(Bounds.Heavy);
        Job<string>[] jobs = [.. first, .. later];
        for (int i = 0; i < jobs.Length; i++)
        {
            if (cancelled.Contains(i))
            {
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => jobs[i].AsTask().WaitAsync(Bounds.Heavy));
            }
            else
            {
                Assert.Equal(Functions.Digest(data[i]), await jobs[i].AsTask().WaitAsync(Bounds.Heavy));
            }
        }
    }

    [Fact]
    public async Task Submit_KeepsTheCycle_WhenArgumentGraphIsCyclic()
    {
        using var server = new JobServer(1);
        var a = new Node { Value = 1 };
        var b = new Node { Value = 2, Next = a };
        a.Next = b;

        Assert.Equal(3, await server.Submit((Node n) => n.Value + n.Next!.Value + n.Next.Next!.Value - 1, a).Within());
        Assert.True(await server.Submit((Node n) => ReferenceEquals(n, n.Next!.Next), a).Within());
    }

    [Fact]
    public async Task Result_KeepsTheCycle_WhenResultGraphIsCyclic()
    {
        using var server = new JobServer(1);

        Job<Node> job = server.Submit(() =>
        {
            var n = new Node { Value = 1 };
            n.Next = n;
            return n;
        });

        Node back = await job.Within();
        Assert.Same(back, back.Next);
    }

    [Fact]
    public async Task Result_ThrowsJobFailedException_WhenResultIsACollectionInsideItself()
    {
        using var server = new JobServer(1);

        Job<List<object>> job = server.Submit(() =>
        {
            var items = new List<object>();
            items.Add(items);
            return items;
        });

        JobFailedException error = await Assert.ThrowsAsync<JobFailedException>(() => job.Within());
        Assert.Contains("cycle", error.Message);
        Assert.Equal(16, await server.Submit(Functions.Square, 4).Within());
    }

    [Fact]
    public async Task Submit_ThrowsClearError_WhenArgumentIsADelegate()
    {
        using var server = new JobServer(1);
        Func<int, int> increment = x => x + 1;

        Exception? error = await Bounds.RecordWithin(() => server.Submit((Func<int, int> g) => g(1), increment));

        Assert.NotNull(error);
        Assert.IsNotAssignableFrom<JobFailedException>(error);
        Assert.Matches("(?i)delegate|Func", error.Message);
    }

    [Fact]
    public async Task Submit_ThrowsClearError_WhenArgumentIsASocket()
    {
        using var server = new JobServer(1);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        Exception? error = await Bounds.RecordWithin(() => server.Submit((Socket s) => s.Available, socket));

        Assert.NotNull(error);
        Assert.IsNotAssignableFrom<JobFailedException>(error);
        Assert.Contains("Socket", error.Message);
    }

    [Fact]
    public async Task Result_ThrowsJobFailedException_WhenResultIsADelegate()
    {
        using var server = new JobServer(1);

        Job<Func<int>> job = server.Submit(() => new Func<int>(() => 1));

        await Assert.ThrowsAsync<JobFailedException>(() => job.Within());
        Assert.Equal(25, await server.Submit(Functions.Square, 5).Within());
    }

    [Fact]
    public async Task Submit_RoundTripsMoreCollections_WhenEchoed()
    {
        using var server = new JobServer(1);
        var set = new HashSet<string> { "a", "b" };
        var sorted = new SortedDictionary<string, int> { ["z"] = 26, ["a"] = 1 };
        var queue = new Queue<int>([1, 2, 3]);
        IReadOnlyList<int> readOnly = new List<int> { 4, 5 };

        Assert.Equal(set, await server.Submit(Functions.Echo<HashSet<string>>, set).Within());
        Assert.Equal(sorted, await server.Submit(Functions.Echo<SortedDictionary<string, int>>, sorted).Within());
        Assert.Equal(queue, await server.Submit(Functions.Echo<Queue<int>>, queue).Within());
        Assert.Equal(9, await server.Submit((IReadOnlyList<int> l) => l.Sum(), readOnly).Within());
    }

    [Fact]
    public async Task Submit_RoundTripsDateTimeOffsetAndStructWithPrivateFields_WhenEchoed()
    {
        using var server = new JobServer(1);
        var when = new DateTimeOffset(2020, 5, 6, 7, 8, 9, TimeSpan.FromHours(2));

        Assert.Equal(when, await server.Submit(Functions.Echo<DateTimeOffset>, when).Within());
        Fraction back = await server.Submit(Functions.Echo<Fraction>, new Fraction(3, 4)).Within();
        Assert.Equal("3/4", back.ToString());
    }

    [Fact]
    public async Task Submit_KeepsRuntimeType_WhenValueTravelsAsBaseClassOrObject()
    {
        using var server = new JobServer(1);
        Animal rex = new Dog { Name = "Rex", Breed = "collie" };

        Job<string> sound = server.Submit((Animal a) => a.Sound(), rex);
        Job<Animal> back = server.Submit(Functions.Echo<Animal>, rex);
        Job<object> boxed = server.Submit<object>(() => new Point(1, 2));

        Assert.Equal("Rex the collie says woof", await sound.Within());
        Dog dog = Assert.IsType<Dog>(await back.Within());
        Assert.Equal("collie", dog.Breed);
        Assert.Equal(new Point(1, 2), await boxed.Within());
    }

    [Fact]
    public async Task Submit_RoundTripsLargeResult_WhenWorkerBuildsIt()
    {
        using var server = new JobServer(1);

        byte[] result = await server.Submit((int size) =>
        {
            var data = new byte[size];
            new Random(99).NextBytes(data);
            return data;
        }, 64 * 1024 * 1024).AsTask().WaitAsync(Bounds.Heavy);

        var expected = new byte[64 * 1024 * 1024];
        new Random(99).NextBytes(expected);
        Assert.Equal(SHA256.HashData(expected), SHA256.HashData(result));
    }

    [Fact]
    public async Task Submit_ThrowsErrorNamingTheField_WhenArgumentHoldsAStreamDeepInside()
    {
        using var server = new JobServer(1);
        using var sink = new MemoryStream();
        var holder = new StreamHolder { Name = "h", Sink = sink };

        Exception? error = await Bounds.RecordWithin(() => server.Submit((StreamHolder h) => h.Name, holder));

        Assert.NotNull(error);
        Assert.IsNotAssignableFrom<JobFailedException>(error);
        Assert.Contains("Sink", error.Message);
        Assert.Contains("Stream", error.Message);
    }

    [Fact]
    public async Task Result_ThrowsJobFailedException_WhenResultHoldsAStream()
    {
        using var server = new JobServer(1);

        Job<StreamHolder> job = server.Submit(() => new StreamHolder { Name = "x", Sink = new MemoryStream() });

        JobFailedException error = await Assert.ThrowsAsync<JobFailedException>(() => job.Within());
        Assert.Contains("Stream", error.Message);
        Assert.Equal(1, await server.Submit(Functions.Square, 1).Within());
    }

    [Fact]
    public async Task Submit_RoundTripsMixedObjectArray_WhenElementsHaveDifferentTypes()
    {
        using var server = new JobServer(1);
        object?[] mixed = [1, "two", 3.5, null, new Point(4, 5), new List<int> { 6 }];

        object?[] back = await server.Submit(Functions.Echo<object?[]>, mixed).Within();

        Assert.Equal(6, back.Length);
        Assert.Equal(1, Convert.ToInt32(back[0], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("two", back[1]);
        Assert.Equal(3.5, back[2]);
        Assert.Null(back[3]);
        Assert.Equal(new Point(4, 5), back[4]);
        Assert.Equal(new[] { 6 }, Assert.IsType<List<int>>(back[5]));
    }

    [Fact]
    public async Task Submit_EitherRoundTripsOrFailsClearly_WhenArgumentIsAVeryDeepAcyclicGraph()
    {
        using var server = new JobServer(1);
        var head = new Node { Value = 0 };
        Node tail = head;
        for (int i = 1; i < 20_000; i++)
        {
            tail.Next = new Node { Value = i };
            tail = tail.Next;
        }

        Job<int>? job = null;
        Exception? error = await Bounds.RecordWithin(() => job = server.Submit((Node n) =>
        {
            int count = 0;
            for (Node? c = n; c is not null; c = c.Next)
            {
                count++;
            }

            return count;
        }, head));

        if (error is null)
        {
            Exception? failure = await Record.ExceptionAsync(async () => Assert.Equal(20_000, await job!.Within()));
            Assert.True(failure is null or JobFailedException, failure?.ToString());
        }
        else
        {
            Assert.IsNotAssignableFrom<JobFailedException>(error);
            Assert.False(string.IsNullOrWhiteSpace(error.Message));
        }

        Assert.Equal(4, await server.Submit(Functions.Square, 2).Within());
    }
}
