/// Every limit on untrusted input, in one place. Files, flags and configurations are read
/// within these; a file past one is refused with a message naming the file and the limit.
/// Tensor sizes and planned memory are bounded by `MemoryBudget` (VitIR, `--max-memory`), and
/// arithmetic on numbers from files by `Checked`.
/// Image files (`detect`'s photos) are bounded by `ImageLimits` in VitImage.
public enum InputLimits {
    // MARK: Configurations

    /// Bytes of a configuration file (a configuration is a few KiB of JSON).
    public static let configBytes = 1 << 20
    /// Nesting of JSON objects and arrays (configurations, safetensors headers).
    public static let jsonDepth = 64

    // MARK: Tracing

    /// Images in one static batch (`--batch`): traced shapes scale with it, and the memory
    /// budget bounds what a batch may plan to hold; this bounds the flag itself.
    public static let maxBatch = 1024

    /// Nil when `batch` is a batch size the tracer accepts (1…`maxBatch`), else the problem.
    public static func batchProblem(_ batch: Int) -> String? {
        (1...maxBatch).contains(batch) ? nil : "expected a batch size in 1…\(maxBatch), got \(batch)"
    }

    // MARK: safetensors

    /// Bytes of a safetensors header (the format's own limit).
    public static let safetensorsHeaderBytes = 100_000_000

    // MARK: PyTorch checkpoints (zip container and pickle)

    /// Entries in a zip's central directory (a ViT-g checkpoint has about 600).
    public static let maxZipEntries = 1 << 20
    /// Bytes in a zip entry name or a pickled GLOBAL's module or name.
    public static let maxNameBytes = 4096
    /// Entries in the pickle memo (a state dict memoizes about 10 values per tensor).
    public static let maxMemo = 1 << 22
    /// Values on the pickle stack at once.
    public static let maxStack = 1 << 20
    /// Open MARKs at once: how deeply containers may nest while they are being built. (Nesting
    /// built through the memo or TUPLE1 is unbounded but harmless: see `Unpickler`.)
    public static let maxNesting = 256
    /// Bytes of one pickled integer (LONG1/LONG4); integers wider than 64 bits become opaque.
    public static let maxLongBytes = 256
}
