#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An output file path checked before any work is done: it names a file (not a directory) in
/// an existing, writable directory. Every file the tool writes goes through it, so a bad
/// `-o`/`--save` gives one line naming the path and the problem instead of a failure after
/// minutes of work (or a crash in path handling).
public struct OutputPath: Sendable, Equatable {
    public let path: String
    /// The directory part ("." for a bare file name).
    public let directory: String
    /// The file name part.
    public let name: String

    public init(_ path: String) throws(FileWriteError) {
        guard !path.isEmpty else { throw FileWriteError("output path is empty") }
        guard !path.utf8.contains(0) else { throw FileWriteError("output path '\(path)' contains a NUL byte") }
        let slash = path.lastIndex(of: "/")
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        guard !name.isEmpty, name != ".", name != ".." else {
            throw FileWriteError("output path '\(path)' names a directory; give a file name (for example \(path.hasSuffix("/") ? path : path + "/")model.onnx)")
        }
        if path == "~" || path.hasPrefix("~/") {
            throw FileWriteError("output path '\(path)' starts with a literal '~' (the shell did not expand it); write the home directory out")
        }
        var st = stat()
        if stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            throw FileWriteError("output path '\(path)' is a directory; give a file name inside it")
        }
        guard stat(directory, &st) == 0 else {
            throw FileWriteError("output directory '\(directory)' does not exist (for '\(path)')")
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw FileWriteError("'\(directory)' is not a directory (for '\(path)')")
        }
        guard access(directory, W_OK) == 0 else {
            throw FileWriteError("output directory '\(directory)' is not writable (for '\(path)')")
        }
        self.path = path
        self.directory = directory
        self.name = name
    }

    /// A sibling file in the same directory (`<directory>/<name>`).
    public func sibling(_ name: String) -> String { directory == "/" ? "/" + name : directory + "/" + name }
}
