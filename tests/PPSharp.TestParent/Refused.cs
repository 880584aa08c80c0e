namespace PPSharp.TestParent;

/// <summary>
/// "refused ADDRESS": a program that configured no logging, with no local workers and a node that will refuse its
/// secret. Prints "FAILED message" when its job fails (or "RESULT value" if it ever runs); what PPSharp says on
/// standard error is the test's other observation.
/// </summary>
public static class Refused
{
    public static int Run(string address)
    {
        using var server = new JobServer(0, ppservers: [address], secret: "not-the-node-secret");
        try
        {
            Console.WriteLine($"RESULT {server.Submit(Math.Sqrt, 4.0).Result}");
        }
        catch (JobFailedException e)
        {
            Console.WriteLine($"FAILED {e.Message}");
        }

        return 0;
    }
}
