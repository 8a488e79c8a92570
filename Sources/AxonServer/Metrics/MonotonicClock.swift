#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Nanoseconds on the monotonic clock, for timing a request's parts.
///
/// `ContinuousClock.now` costs a runtime call and 128-bit arithmetic per reading; the prediction
/// path reads the clock twice per request, so it calls `clock_gettime` directly.
enum MonotonicClock {
    /// The current reading; only differences between readings mean anything.
    @inline(__always)
    static func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }
}
