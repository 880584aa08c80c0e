// The machine has 2 cores and every test starts real worker processes: run at most two test classes at
// once (xunit's default "conservative" algorithm starts no more tests than this).
[assembly: CollectionBehavior(MaxParallelThreads = 2)]
