extension StateDirectory {
    /// Identity of one committed version file, or nil if it does not exist.
    ///
    /// A process that commits a version records this in its `StateSnapshot`, so its own watch
    /// rescans recognise the file as already loaded instead of decoding it again.
    public func fileIdentity(of model: ModelName, version: UInt64) throws(StorageError) -> FileIdentity? {
        guard let info = try FileSystem.status(path(of: model, version: version)) else { return nil }
        return FileSystem.identity(of: info)
    }
}
