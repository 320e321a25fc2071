// The TorchSharp commands seed the process-wide torch generator (torch.manual_seed) before building a model; two
// commands running at once in one process would interleave that stream. Tests in this assembly therefore run serially.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
