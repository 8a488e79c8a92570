import Checkpoint
import Testing

@Suite("CRC-32C")
struct CRC32CTests {
    @Test("known vectors: check value and RFC 3720 B.4")
    func knownVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).reversed().map { UInt8($0) }) == 0x113F_DB5C)
    }

    /// Slicing-by-8 must agree with the textbook bit-at-a-time definition at every length and
    /// split point, including the byte-wise tail.
    @Test("slicing-by-8 equals the bitwise definition, in one piece or many")
    func matchesBitwise() {
        var random = SeededGenerator(seed: 42)
        let data = (0..<300).map { _ in UInt8.random(in: 0...255, using: &random) }
        for length in 0...data.count {
            let slice = Array(data[0..<length])
            let expected = bitwise(slice)
            #expect(CRC32C.checksum(slice) == expected)
            let split = length / 3
            var crc = CRC32C()
            crc.update(slice[0..<split])
            crc.update(slice[split...])
            #expect(crc.value == expected)
        }
    }

    private func bitwise(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }
}
