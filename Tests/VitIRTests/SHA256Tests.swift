import Testing
import VitIR

// The example vectors of NIST's "SHA-256" examples (CSRC, FIPS 180 example values) and the
// one-million-"a" vector of FIPS 180-2 Appendix B.3.

private func digest(_ bytes: [UInt8]) -> String { bytes.withUnsafeBytes { SHA256.hex($0) } }

@Test func sha256MatchesTheNISTVectors() {
    #expect(digest(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(digest([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(digest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    #expect(digest(Array("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu".utf8))
            == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
    #expect(digest([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
}

@Test func sha256IsTheSameWhateverTheChunking() {
    // Lengths around the 55/56/64-byte padding boundaries, fed whole and in uneven pieces.
    for n in [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000] {
        let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var pieces = SHA256()
        var start = 0, step = 1
        while start < n {
            let end = min(n, start + step)
            bytes[start..<end].withUnsafeBytes { pieces.update($0) }
            start = end
            step = step * 3 % 71 + 1
        }
        let whole = digest(bytes)
        #expect(pieces.finalize().map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() == whole, "length \(n)")
        #expect(whole.count == 64)
    }
}
