// Each test starts worker processes (and one a browser) on a 2-core machine: one test class at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
