import Foundation

/// `exp` and `erf` eight floats at a time, for the encoder's softmax and GELU (millions of calls
/// per window, which the C library makes one at a time). Accurate to a few parts in 10⁷, well
/// inside what the golden vectors allow (2·10⁻⁴ on the final embedding).
enum VectorMath {
    typealias Lanes = SIMD8<Float>

    /// e^x: x = n·ln 2 + r with |r| ≤ ln 2 / 2, e^r by its Taylor series to r⁷, 2ⁿ from the exponent bits.
    @inline(__always)
    static func exp(_ x: Lanes) -> Lanes {
        let clamped = x.clamped(lowerBound: Lanes(repeating: -87.3), upperBound: Lanes(repeating: 88.7))
        let n = (clamped * 1.442_695_04).rounded(.toNearestOrEven)
        let r = clamped - n * 0.693_145_751_953_125 - n * 1.428_606_765_330_187_045e-6
        var p = Lanes(repeating: 1.0 / 5040)
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        var bits = SIMD8<Int32>()
        for lane in 0..<8 { bits[lane] = (Int32(n[lane]) &+ 127) &<< 23 }
        return p * unsafeBitCast(bits, to: Lanes.self)
    }

    /// erf(x) by Abramowitz and Stegun 7.1.26 (absolute error under 1.5·10⁻⁷).
    @inline(__always)
    static func erf(_ x: Lanes) -> Lanes {
        let a = x.replacing(with: -x, where: x .< 0)
        let t = 1 / (1 + 0.327_591_1 * a)
        var y = Lanes(repeating: 1.061_405_429)
        y = y * t - 1.453_152_027
        y = y * t + 1.421_413_741
        y = y * t - 0.284_496_736
        y = y * t + 0.254_829_592
        let magnitude = 1 - y * t * exp(-a * a)
        return magnitude.replacing(with: -magnitude, where: x .< 0)
    }

    /// `values[i] = gelu(values[i])`, BERT's exact GELU: x/2 · (1 + erf(x/√2)).
    static func gelu(_ values: inout [Float]) {
        values.withUnsafeMutableBufferPointer { buffer in
            let count = buffer.count, whole = count - count % 8
            var index = 0
            while index < whole {
                let x = Lanes(buffer[index..<(index + 8)])
                let y = 0.5 * x * (1 + erf(x * 0.707_106_781_186_547_6))
                for lane in 0..<8 { buffer[index + lane] = y[lane] }
                index += 8
            }
            for rest in whole..<count {
                let x = buffer[rest]
                buffer[rest] = 0.5 * x * (1 + erff(x * 0.707_106_781_186_547_6))
            }
        }
    }

    /// Softmax of `count` floats in place.
    static func softmax(_ row: UnsafeMutablePointer<Float>, count: Int) {
        var largest = -Float.infinity
        for index in 0..<count { largest = max(largest, row[index]) }
        let whole = count - count % 8
        var sums = Lanes()
        var index = 0
        while index < whole {
            let e = exp(Lanes(UnsafeBufferPointer(start: row + index, count: 8)) - largest)
            sums += e
            for lane in 0..<8 { row[index + lane] = e[lane] }
            index += 8
        }
        var sum = sums.sum()
        for rest in whole..<count {
            row[rest] = expf(row[rest] - largest)
            sum += row[rest]
        }
        let scale = 1 / sum
        for index in 0..<count { row[index] *= scale }
    }
}
