// SharpFuzz harness for AFL++: dotnet PPSharp.Fuzz.dll TARGET (targets: FuzzTargets.All); --seeds DIR writes the
// starting corpus. See docs/security.md for the campaign's commands.
using PPSharp.Fuzz;
using SharpFuzz;

if (args is ["--seeds", string seedDirectory])
{
    Seeds.Write(seedDirectory);
    return 0;
}

if (args.Length != 1 || !FuzzTargets.All.ContainsKey(args[0]))
{
    Console.Error.WriteLine($"usage: PPSharp.Fuzz {string.Join('|', FuzzTargets.All.Keys)}");
    return 2;
}

string target = args[0];
Fuzzer.OutOfProcess.Run(stream =>
{
    using var copy = new MemoryStream();
    stream.CopyTo(copy);
    FuzzTargets.Run(target, copy.ToArray());
});
return 0;
