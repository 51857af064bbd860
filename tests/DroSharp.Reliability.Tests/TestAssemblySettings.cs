// The fuzz targets share one scratch directory per process: run the tests one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
