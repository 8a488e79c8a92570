import Glibc

/// Standard output and error, written unbuffered in effect (flushed after every write) so a
/// progress line appears when it is drawn and lines interleave with stderr in order.
enum Terminal {
    /// Whether standard output is a terminal: the progress bar redraws in place only then.
    static var isInteractive: Bool { isatty(STDOUT_FILENO) == 1 }

    /// Columns of the terminal on standard output; else COLUMNS, else 80.
    static var width: Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        if let columns = getenv("COLUMNS").flatMap({ Int(String(cString: $0)) }), columns > 0 { return columns }
        return 80
    }

    static func write(_ text: String) {
        write(Array(text.utf8), to: STDOUT_FILENO)
    }

    static func line(_ text: String = "") {
        write(text + "\n")
    }

    static func error(_ text: String) {
        write(Array((text + "\n").utf8), to: STDERR_FILENO)
    }

    /// Writes raw bytes (an API body for `--json`) and a newline.
    static func json(_ bytes: [UInt8]) {
        write(bytes + [UInt8(ascii: "\n")], to: STDOUT_FILENO)
    }

    /// All of `bytes` to `descriptor`, straight through write(2): no stdio buffer to flush, so
    /// stdout and stderr stay in order.
    private static func write(_ bytes: [UInt8], to descriptor: Int32) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }
}

/// What Ctrl-C prints before `axon` exits 130: while a job is followed, that it keeps running.
enum Interrupt {
    nonisolated(unsafe) private static var message: UnsafeMutablePointer<CChar>?

    /// Installs the handler once; `text` replaces what it prints.
    static func onInterrupt(print text: String) {
        let old = message
        message = strdup(text)
        free(old)
        signal(SIGINT) { _ in
            // Only async-signal-safe calls here: write(2) and _exit(2).
            if let text = Interrupt.message { _ = Glibc.write(STDERR_FILENO, text, strlen(text)) }
            _exit(130)
        }
    }
}
