#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Thin names for the C math functions, so the rest of ModelKit needs no platform imports.

@inline(__always) func exponential(_ x: Float) -> Float { expf(x) }
@inline(__always) func logarithm(_ x: Float) -> Float { logf(x) }
@inline(__always) func logarithm1p(_ x: Float) -> Float { log1pf(x) }
@inline(__always) func hyperbolicTangent(_ x: Float) -> Float { tanhf(x) }
@inline(__always) func power(_ x: Double, _ y: Double) -> Double { pow(x, y) }
@inline(__always) func cosineOf(_ x: Double) -> Double { cos(x) }

/// Numerically stable logistic function (never overflows `exp`).
@inline(__always)
func logistic(_ x: Float) -> Float {
    if x >= 0 {
        return 1 / (1 + expf(-x))
    }
    let e = expf(x)
    return e / (1 + e)
}
