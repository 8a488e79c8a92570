#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Crash-safe whole-file writes and bounded reads on POSIX.
///
/// A write goes to a temporary file in the target's directory, is written completely, fsynced,
/// renamed (or hard-linked) onto the target, and then the directory is fsynced. A crash at any
/// moment leaves either the old file or the complete new one under the target name; a failure
/// leaves the old file untouched and removes the temporary.
public enum DurableFile {
    /// Temporary files carry this marker after their leading dot: `.<name>.tmp-<hex>`.
    public static let temporaryMarker = ".tmp-"

    /// Writes `bytes` to `path` durably.
    ///
    /// - Parameter replacing: when true an existing file is replaced atomically (rename); when
    ///   false an existing file makes the write fail with EEXIST (link), which lets two writers
    ///   race for the same version number without either overwriting the other.
    /// - Throws: `StorageError.systemCall` with the failing operation, path and errno. If only
    ///   the final directory fsync fails, the new file is already in place but may not survive
    ///   a power loss.
    public static func write(_ bytes: [UInt8], to path: String, replacing: Bool = true) throws(StorageError) {
        let directory = directoryName(of: path)
        let temporary = temporaryPath(for: path)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .systemCall(.open, path: temporary, errno: errno) }

        var failure: StorageError?
        if let error = writeAll(fd, bytes, path: temporary) {
            failure = error
        } else if fsync(fd) != 0 {
            failure = .systemCall(.fsync, path: temporary, errno: errno)
        }
        // close can report a deferred write error (NFS), so its result counts.
        if close(fd) != 0, failure == nil {
            failure = .systemCall(.close, path: temporary, errno: errno)
        }
        if failure == nil {
            if replacing {
                if rename(temporary, path) != 0 { failure = .systemCall(.rename, path: path, errno: errno) }
            } else {
                failure = installWithoutReplacing(temporary, at: path)
                // After a successful link the temporary is just a second name; drop it either way.
                unlink(temporary)
            }
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
        try syncDirectory(directory)
    }

    /// Reads the whole regular file at `path`, refusing files larger than `maxBytes` before
    /// allocating.
    public static func read(_ path: String, maxBytes: UInt64) throws(StorageError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .systemCall(.open, path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .systemCall(.stat, path: path, errno: errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .notRegularFile(path: path) }
        let size = UInt64(info.st_size)
        guard size <= maxBytes else { throw .fileTooLarge(path: path, size: size, limit: maxBytes) }

        var readError: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: Int(size)) { buffer, initialized in
            var total = 0
            while total < buffer.count {
                let count = Glibc.read(fd, buffer.baseAddress! + total, buffer.count - total)
                if count < 0 {
                    if errno == EINTR { continue }
                    readError = errno
                    break
                }
                // A file that shrank since fstat returns what is there; the decoder reports truncation.
                if count == 0 { break }
                total += count
            }
            initialized = total
        }
        guard readError == 0 else { throw .systemCall(.read, path: path, errno: readError) }
        return bytes
    }

    /// Fsyncs a directory so that renames and removals inside it survive a power loss.
    public static func syncDirectory(_ path: String) throws(StorageError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .systemCall(.open, path: path, errno: errno) }
        defer { close(fd) }
        // EINVAL: the file system cannot sync directories at all; nothing more can be done.
        if fsync(fd) != 0, errno != EINVAL { throw .systemCall(.fsync, path: path, errno: errno) }
    }

    /// Creates `path` (one level) if missing and makes its entry durable in the parent.
    public static func createDirectory(_ path: String) throws(StorageError) {
        if mkdir(path, 0o755) != 0 {
            let code = errno
            guard code == EEXIST else { throw .systemCall(.mkdir, path: path, errno: code) }
            var info = stat()
            guard stat(path, &info) == 0 else { throw .systemCall(.stat, path: path, errno: errno) }
            guard (info.st_mode & S_IFMT) == S_IFDIR else { throw .systemCall(.mkdir, path: path, errno: ENOTDIR) }
            return
        }
        try syncDirectory(directoryName(of: path))
    }

    /// A fresh temporary name next to `path`: hidden, and never ending in `.axon`.
    public static func temporaryPath(for path: String) -> String {
        let directory = directoryName(of: path)
        let name = baseName(of: path)
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return "\(directory)/.\(name)\(temporaryMarker)\(suffix)"
    }

    /// Whether a directory entry is a temporary left by `write`.
    public static func isTemporaryName(_ name: String) -> Bool {
        name.hasPrefix(".") && name.contains(temporaryMarker)
    }

    /// Hard-links `temporary` to `path`, which fails with EEXIST instead of replacing. File
    /// systems without hard links (EPERM, EOPNOTSUPP, ENOSYS) fall back to check-then-rename,
    /// which is atomic for readers but no longer guards against a concurrent writer.
    private static func installWithoutReplacing(_ temporary: String, at path: String) -> StorageError? {
        if link(temporary, path) == 0 { return nil }
        let code = errno
        guard code == EPERM || code == EOPNOTSUPP || code == ENOSYS else {
            return .systemCall(.link, path: path, errno: code)
        }
        var info = stat()
        if lstat(path, &info) == 0 { return .systemCall(.link, path: path, errno: EEXIST) }
        if rename(temporary, path) != 0 { return .systemCall(.rename, path: path, errno: errno) }
        return nil
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) -> StorageError? {
        bytes.withUnsafeBytes { buffer -> StorageError? in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return .systemCall(.write, path: path, errno: errno)
                }
                offset += written
            }
            return nil
        }
    }

    static func directoryName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}
