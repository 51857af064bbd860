// The CLI tests redirect Console and train models on the shared worker pool: run them one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
