#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin wrappers over the POSIX calls the state directory needs, each turning errno into a
/// `StorageError` that names the path.
enum FileSystem {
    /// Kind of a directory entry, from `lstat` (symbolic links are never followed).
    enum EntryKind { case file, directory, other }

    static func list(_ path: String) throws(StorageError) -> [String] {
        guard let directory = opendir(path) else { throw .systemCall(.opendir, path: path, errno: errno) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: pointer.pointee)) {
                    String(cString: $0)
                }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// `lstat` of `path`, or nil if it does not exist.
    static func status(_ path: String) throws(StorageError) -> stat? {
        var info = stat()
        if lstat(path, &info) != 0 {
            if errno == ENOENT { return nil }
            throw .systemCall(.stat, path: path, errno: errno)
        }
        return info
    }

    static func kind(of info: stat) -> EntryKind {
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    static func identity(of info: stat) -> FileIdentity {
        FileIdentity(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: UInt64(info.st_size),
            modifiedSeconds: Int64(info.st_mtim.tv_sec), modifiedNanoseconds: Int64(info.st_mtim.tv_nsec))
    }

    static func remove(_ path: String) throws(StorageError) {
        if unlink(path) != 0, errno != ENOENT { throw .systemCall(.unlink, path: path, errno: errno) }
    }

    static func move(_ source: String, to destination: String) throws(StorageError) {
        if rename(source, destination) != 0 { throw .systemCall(.rename, path: source, errno: errno) }
    }

    /// Removes a directory tree without following symbolic links; `depth` bounds the recursion
    /// because the state directory is never deeper than two levels.
    static func removeTree(_ path: String, depth: Int = 4) throws(StorageError) {
        guard let info = try status(path) else { return }
        guard kind(of: info) == .directory else { return try remove(path) }
        guard depth > 0 else { throw .systemCall(.rmdir, path: path, errno: ENOTEMPTY) }
        for name in try list(path) {
            try removeTree("\(path)/\(name)", depth: depth - 1)
        }
        if rmdir(path) != 0, errno != ENOENT { throw .systemCall(.rmdir, path: path, errno: errno) }
    }

    /// Seconds since the epoch, for quarantine names and temporary-file ages. From the fine
    /// clock: `time()` reads the coarse one, which can trail a file's fresh mtime by a tick, so a
    /// file written at a second's boundary would look a second younger than it is.
    static func now() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec)
    }
}
