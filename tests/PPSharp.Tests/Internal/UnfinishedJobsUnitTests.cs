using PPSharp.Internal;

namespace PPSharp.Tests.Internal;

/// <summary>The list of a server's unfinished jobs, linked through the jobs: order, removal from any place, groups.</summary>
public sealed class UnfinishedJobsUnitTests
{
    [Fact]
    public void RemovingFromTheFrontMiddleAndBack_KeepsTheRestInOrder_AndRemovingTwiceOrAddingTwiceChangesNothing()
    {
        using var server = new JobServer(0);
        Job[] jobs = [.. Enumerable.Range(1, 6).Select(i => Job.Create(server, i % 2 == 0 ? "even" : "odd", null))];
        for (int i = 0; i < jobs.Length; i++)
        {
            jobs[i].Id = i + 1;
        }

        var list = new UnfinishedJobs();
        foreach (Job job in jobs)
        {
            list.Add(job);
        }

        list.Add(jobs[2]); // already in
        list.Remove(jobs[0]);
        list.Remove(jobs[3]);
        list.Remove(jobs[5]);
        list.Remove(jobs[3]); // already out

        Assert.Equal([2, 3, 5], list.Snapshot().Select(j => j.Id));
        Assert.Equal([2], list.Snapshot("even").Select(j => j.Id));
        Assert.Equal([3, 5], list.Snapshot("odd").Select(j => j.Id));

        int count = 0;
        list.ForEach(ref count, static (ref int c, Job _) => c++);
        Assert.Equal(3, count);

        list.Remove(jobs[1]);
        list.Remove(jobs[2]);
        list.Remove(jobs[4]);
        Assert.Empty(list.Snapshot());
        list.Add(jobs[4]); // a removed job can come back (a retried submission): it goes to the back
        Assert.Equal([5], list.Snapshot().Select(j => j.Id));
    }
}
