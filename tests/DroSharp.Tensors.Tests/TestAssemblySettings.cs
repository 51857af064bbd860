// Kernel tests lower KernelDispatch.Level globally and share the one WorkerPool, whose For() is not
// safe to enter from two threads at once: run the test classes one after another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
