import Redis
import Testing

@Suite("Redis hash slots")
struct HashSlotTests {
    @Test("CRC16 (XMODEM) of the reference input and the slots Redis documents")
    func knownSlots() {
        #expect(HashSlot.slot(of: "123456789") == 0x31C3)
        #expect(HashSlot.slot(of: "foo") == 12182)
        #expect(HashSlot.slot(of: "bar") == 5061)
        #expect(HashSlot.slot(of: "") == 0)
    }

    @Test("hash tags: the part between the first { and the next } decides; an empty or unclosed tag does not")
    func hashTags() {
        // Golden values: what Redis's CLUSTER KEYSLOT answers for each key.
        #expect(HashSlot.slot(of: "{user1000}.following") == 3443)
        #expect(HashSlot.slot(of: "{user1000}.followers") == 3443)
        #expect(HashSlot.slot(of: "user1000") == 3443)
        #expect(HashSlot.slot(of: "foo{}{bar}") == 8363, "an empty first tag hashes the whole key")
        #expect(HashSlot.slot(of: "foo{{bar}}zap") == 4015, "the tag is \"{bar\"")
        #expect(HashSlot.slot(of: "{bar") == 4015)
        #expect(HashSlot.slot(of: "foo{bar}{zap}") == 5061, "the first tag, \"bar\"")
        #expect(HashSlot.slot(of: "{unclosed") == 470, "an unclosed tag hashes the whole key")
    }

    @Test("redirects are parsed from MOVED and ASK errors, and nothing else")
    func redirects() {
        #expect(RedisRedirect("MOVED 3999 127.0.0.1:6381") == .moved(slot: 3999, to: RedisEndpoint(host: "127.0.0.1", port: 6381)))
        #expect(RedisRedirect("ASK 3999 [::1]:6381") == .ask(slot: 3999, to: RedisEndpoint(host: "::1", port: 6381)))
        #expect(RedisRedirect("ERR unknown command") == nil)
        #expect(RedisRedirect("MOVED x 127.0.0.1:6381") == nil)
    }
}
