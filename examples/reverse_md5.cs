#:project ../src/PPSharp/PPSharp.csproj

// reverse_md5.cs: a PPSharp port of ppft's reverse_md5.py (Parallel Python, by Vitalii Vanovschi).
// Tries to reverse an MD5 hash in parallel: finds the number whose decimal text has the given hash.
//
// Run from the repository root: dotnet run examples/reverse_md5.cs [ncpus]

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using PPSharp;

Console.WriteLine("""
    Usage: dotnet run examples/reverse_md5.cs [ncpus]
        [ncpus] - the number of workers to run in parallel,
        if omitted it will be set to the number of processors in the system

    """);

// A job server with ncpus local workers, or as many as the machine has processors.
using var server = args.Length > 0
    ? new JobServer(int.Parse(args[0], CultureInfo.InvariantCulture))
    : new JobServer();

// ppft's script prints "ppft" here, where its other examples print "pp"; kept as it is.
Console.WriteLine($"Starting ppft with {server.Ncpus} workers");

// The MD5 hash of a number; the jobs below search for the number again.
string hash = Md5Hex("1829182");
Console.WriteLine($"hash = {hash}");

const int start = 1;
const int end = 2000000;

// The jobs do not take equal times, so 128 small subproblems balance the load better than a few large ones.
const int parts = 128;
int step = (int)(((double)(end - start) / parts) + 1);

var jobs = new List<Job<int?>>();
for (int index = 0; index < parts; index++)
{
    int starti = start + (index * step);
    int endi = Math.Min(start + ((index + 1) * step), end);

    // Submits Md5Test(hash, starti, endi): does a number from starti to endi - 1 have the hash?
    jobs.Add(server.Submit(Md5Test, hash, starti, endi));
}

// Retrieves the results in order, up to the first job that found the number.
int? result = null;
foreach (Job<int?> job in jobs)
{
    result = job.Result;
    if (result is not null)
    {
        break;
    }
}

if (result is not null)
{
    Console.WriteLine($"Reverse md5 for {hash} is {result}");
}
else
{
    Console.WriteLine($"Reverse md5 for {hash} has not been found");
}

server.PrintStats();

// Lets the remaining jobs finish before the server is disposed (as ppft's script, not necessary).
server.Wait();

// The first number from start to end - 1 whose MD5 hash is hash, or null if there is none.
static int? Md5Test(string hash, int start, int end)
{
    for (int x = start; x < end; x++)
    {
        if (Md5Hex(x.ToString(CultureInfo.InvariantCulture)) == hash)
        {
            return x;
        }
    }

    return null;
}

// The MD5 hash of the text's Latin-1 bytes in lowercase hex, as Python's hashlib.md5(...).hexdigest().
static string Md5Hex(string text)
{
    // MD5 is what this example reverses, not a protection of anything.
#pragma warning disable CA5351 // Do Not Use Broken Cryptographic Algorithms
    byte[] digest = MD5.HashData(Encoding.Latin1.GetBytes(text));
#pragma warning restore CA5351
    return Convert.ToHexStringLower(digest);
}
