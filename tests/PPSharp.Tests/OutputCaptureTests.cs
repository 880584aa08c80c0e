namespace PPSharp.Tests;

/// <summary>Behaviour 4: a job's console output is captured per job; nothing a job writes corrupts the channel.</summary>
public sealed class OutputCaptureTests
{
    [Fact]
    public async Task Output_ContainsStdoutAndStderr_WhenJobWritesToConsole()
    {
        using var server = new JobServer(1);

        Job<int> job = server.Submit((int x) =>
        {
            Console.WriteLine($"to stdout {x}");
            Console.Error.WriteLine($"to stderr {x}");
            Console.Out.Write("no newline");
            return x;
        }, 17);

        Assert.Equal(17, await job.Within());
        Assert.Contains("to stdout 17", job.Output);
        Assert.Contains("to stderr 17", job.Output);
        Assert.Contains("no newline", job.Output);
    }

    [Fact]
    public async Task Output_IsEmpty_WhenJobWritesNothing()
    {
        using var server = new JobServer(1);

        Job<int> job = server.Submit(Functions.Square, 3);

        Assert.Equal(9, await job.Within());
        Assert.True(string.IsNullOrEmpty(job.Output));
    }

    [Fact]
    public async Task Output_HoldsOnlyItsOwnJobsWrites_WhenManyJobsPrintOnTwoWorkers()
    {
        using var server = new JobServer(2);
        var jobs = Enumerable.Range(0, 20)
            .Select(i => server.Submit((int n) =>
            {
                Console.WriteLine($"<job {n} begins>");
                Console.Error.WriteLine($"<job {n} ends>");
                return n;
            }, i))
            .ToList();

        await jobs.AllWithin();

        for (int i = 0; i < jobs.Count; i++)
        {
            string output = jobs[i].Output ?? string.Empty;
            Assert.Contains($"<job {i} begins>", output);
            Assert.Contains($"<job {i} ends>", output);
            Assert.Equal(2, output.Split('<').Length - 1);
        }
    }

    [Fact]
    public async Task Output_ContainsEverything_WhenJobWritesSeveralMegabytes_UnderARaisedLimit()
    {
        using var server = new JobServer(new JobServerOptions { Ncpus = 1, MaxJobOutputSize = 8 << 20 });

        Job<int> job = server.Submit((int lines) =>
        {
            for (int i = 0; i < lines; i++)
            {
                Console.WriteLine($"line {i:D7} ................................................................");
            }

            return lines;
        }, 60_000);

        Assert.Equal(60_000, await job.AsTask().WaitAsync(Bounds.Heavy));
        Assert.Contains("line 0000000 ", job.Output);
        Assert.Contains("line 0059999 ", job.Output);
        Assert.True(job.Output!.Length > 4_000_000);
    }

    public static int Chatter(int lines)
    {
        Console.Error.WriteLine("first words");
        for (int i = 0; i < lines; i++)
        {
            Console.WriteLine($"line {i:D7} ................................................................");
        }

        Console.Error.WriteLine("last words");
        return lines;
    }

    [Fact]
    public async Task Output_PastTheLimit_KeepsTheHeadAndTheTail_AndSaysHowMuchWasCut()
    {
        using var server = new JobServer(new JobServerOptions { Ncpus = 1, MaxJobOutputSize = 10_000 });

        Job<int> job = server.Submit(Chatter, 100_000); // about 8.5 million characters

        Assert.Equal(100_000, await job.AsTask().WaitAsync(Bounds.Heavy));
        string output = job.Output!;
        Assert.True(output.Length < 10_400, $"{output.Length} characters kept");
        Assert.StartsWith("first words", output);
        Assert.Contains("line 0000000 ", output);
        Assert.Contains("line 0099999 ", output);
        Assert.EndsWith("last words" + Environment.NewLine, output);
        Assert.Matches(@"\[PPSharp: [\d,]+ characters of this job's output were cut here; the first 5,000 and the last 5,000 of [\d,]+ are kept", output);
        Assert.Equal(4, await server.Submit(Functions.Square, 2).Within()); // the worker goes on
    }

    [Fact]
    public async Task Submit_KeepsChannelIntact_WhenJobWritesGarbageToRawStdoutHandle()
    {
        using var server = new JobServer(1);
        byte[] garbage = new byte[256 * 1024];
        new Random(7).NextBytes(garbage);
        for (int i = 0; i < 256; i++)
        {
            garbage[i] = (byte)i;
        }

        Job<int> job = server.Submit((byte[] noise) =>
        {
            using Stream raw = Console.OpenStandardOutput();
            raw.Write(noise);
            raw.Flush();
            using Stream rawErr = Console.OpenStandardError();
            rawErr.Write(noise);
            rawErr.Flush();
            return noise.Length;
        }, garbage);

        Assert.Equal(garbage.Length, await job.Within());
        var later = Enumerable.Range(0, 10).Select(i => server.Submit(Functions.Square, i)).ToList();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i * i).ToArray(), await later.AllWithin());
    }

    [Fact]
    public async Task Submit_KeepsChannelIntact_WhenJobWritesProtocolLikeBytesToFileDescriptorOne()
    {
        using var server = new JobServer(1);

        Job<string> job = server.Submit(() =>
        {
            using var fd1 = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(1, ownsHandle: false), FileAccess.Write);
            // Length-prefixed-looking frames, zeros and a huge bogus length.
            fd1.Write([0, 0, 0, 4, 1, 2, 3, 4, 0xFF, 0xFF, 0xFF, 0x7F, 0x92, 0x01, 0xC0, 0, 0, 0, 0]);
            fd1.Flush();
            Console.Out.Flush();
            return "still fine";
        });

        Assert.Equal("still fine", await job.Within());
        Assert.Equal(49, await server.Submit(Functions.Square, 7).Within());
        Assert.Equal(64, await server.Submit(Functions.Square, 8).Within());
    }

    [Fact]
    public async Task Output_IsCaptured_WhenJobThrowsAfterWriting()
    {
        using var server = new JobServer(1);

        Job<int> job = server.Submit((int x) =>
        {
            Console.WriteLine("before the throw");
            return x > 0 ? throw new InvalidOperationException("after output") : x;
        }, 1);

        await Assert.ThrowsAsync<JobFailedException>(() => job.Within());
        Assert.Contains("before the throw", job.Output);
    }
}

/// <summary>
/// Behaviour 4, second half: a job's output is written to the caller's console when its result is retrieved.
/// Swaps Console.Out, so it runs alone.
/// </summary>
[Collection(nameof(SerialTestGroup))]
public sealed class OutputEchoTests
{
    [Fact]
    public async Task Result_WritesJobOutputToCallersConsole_WhenRetrieved()
    {
        using var server = new JobServer(new JobServerOptions { Ncpus = 1, ConsoleOutput = ConsoleOutput.WhenRead });
        Job<int> job = server.Submit((int x) =>
        {
            Console.WriteLine($"echo marker {x}");
            return x;
        }, 31);
        await Bounds.RunWithin(() => server.Wait());

        TextWriter original = Console.Out;
        using var captured = new StringWriter();
        int result;
        Console.SetOut(captured);
        try
        {
            result = job.Result;
        }
        finally
        {
            Console.SetOut(original);
        }

        Assert.Equal(31, result);
        Assert.Contains("echo marker 31", captured.ToString());
    }
}
