#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file that could not be written, created, flushed or renamed; `message` names the path
/// and the system's reason.
public struct FileWriteError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A file written under a temporary name beside its destination (`.<name>.tmp-XXXXXX`, made by
/// mkstemp(3), mode 0644) and renamed onto the destination by `commit`.
///
/// Contract: until `commit` the destination is untouched (absent, or its previous contents);
/// `commit` is one rename(2), which replaces it atomically on POSIX file systems, so readers
/// see the old file or the whole new one, never a partial file. `finish` flushes (fsync) and
/// closes before `commit`; `discard` removes the temporary file and may be called after any
/// failure. Callers own the order: write…, finish, commit — or discard.
public final class AtomicFile {
    public let destination: String
    /// Where the bytes are until `commit` (in the destination's directory).
    public let temporaryPath: String
    private var descriptor: Int32

    public init(destination: String) throws(FileWriteError) {
        let slash = destination.lastIndex(of: "/")
        let directory = slash.map { String(destination[..<$0]) } ?? ""
        let name = slash.map { String(destination[destination.index(after: $0)...]) } ?? destination
        let template = (slash == nil ? "." : directory) + "/.\(name).tmp-XXXXXX"
        var buffer = Array(template.utf8CString)
        let fd = buffer.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw FileWriteError("cannot create a temporary file for \(destination): \(systemError())")
        }
        descriptor = fd
        temporaryPath = String(decoding: buffer.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        self.destination = destination
        fchmod(fd, 0o644)
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// Appends `bytes` (in chunks of at most 16 MiB, retrying on EINTR).
    public func write(_ bytes: UnsafeRawBufferPointer) throws(FileWriteError) {
        var offset = 0
        while offset < bytes.count {
            let chunk = min(bytes.count - offset, 1 << 24)
            let n = posixWrite(descriptor, bytes.baseAddress! + offset, chunk)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileWriteError("cannot write \(temporaryPath): \(systemError())")
            }
            offset += n
        }
    }

    /// Appends `count` zero bytes.
    public func writeZeros(_ count: Int) throws(FileWriteError) {
        let zeros = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 1)
        defer { zeros.deallocate() }
        zeros.initializeMemory(as: UInt8.self, repeating: 0)
        try write(UnsafeRawBufferPointer(zeros))
    }

    /// Flushes to disk and closes the descriptor.
    public func finish() throws(FileWriteError) {
        guard descriptor >= 0 else { return }
        let synced = fsync(descriptor) == 0
        let syncError = errno
        let closed = close(descriptor) == 0
        descriptor = -1
        guard synced, closed else {
            throw FileWriteError("cannot finish \(temporaryPath): \(String(cString: strerror(synced ? errno : syncError)))")
        }
    }

    /// Renames the finished temporary file onto the destination.
    public func commit() throws(FileWriteError) {
        guard rename(temporaryPath, destination) == 0 else {
            throw FileWriteError("cannot rename \(temporaryPath) to \(destination): \(systemError())")
        }
    }

    /// Closes (if open) and removes the temporary file.
    public func discard() {
        if descriptor >= 0 { close(descriptor); descriptor = -1 }
        unlink(temporaryPath)
    }
}

/// Replaces `path` with `bytes` atomically (an `AtomicFile` written, finished and committed):
/// on any failure the temporary file is removed and `path` keeps its previous state.
public func writeFileAtomically(_ bytes: UnsafeRawBufferPointer, to path: String) throws(FileWriteError) {
    let file = try AtomicFile(destination: path)
    do {
        try file.write(bytes)
        try file.finish()
        try file.commit()
    } catch {
        file.discard()
        throw error
    }
}

/// `writeFileAtomically(_:to:)` for a byte array.
public func writeFileAtomically(_ bytes: [UInt8], to path: String) throws(FileWriteError) {
    var failure: FileWriteError?
    bytes.withUnsafeBytes { raw in
        do { try writeFileAtomically(raw, to: path) } catch { failure = error as? FileWriteError ?? FileWriteError("\(error)") }
    }
    if let failure { throw failure }
}

private func systemError() -> String { String(cString: strerror(errno)) }

private func posixWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, bytes, count)
    #else
    Darwin.write(fd, bytes, count)
    #endif
}
