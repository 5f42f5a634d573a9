import Foundation
import Kafka
import Testing

/// The librdkafka wrapper against librdkafka's mock cluster (the real protocol on loopback).
@Suite("Kafka wrapper on the mock cluster", .serialized, .timeLimit(.minutes(2)))
struct KafkaClientTests {
    @Test("messages keep their key, value, headers and partition; commits and watermarks are what was consumed")
    func produceConsumeCommit() throws {
        let cluster = try KafkaMockCluster(brokers: 1)
        try cluster.createTopic("t", partitions: 2)
        let producer = try KafkaProducer(properties: ["bootstrap.servers": cluster.bootstrapServers])
        for i in 0..<10 {
            try producer.produce(topic: "t", key: Array("k\(i)".utf8), value: Array("v\(i)".utf8), headers: [("h", Array("x\(i)".utf8))],
                                 partition: Int32(i % 2))
        }
        try producer.flush()
        let consumer = try KafkaConsumer(properties: ["bootstrap.servers": cluster.bootstrapServers, "group.id": "g",
                                                      "auto.offset.reset": "earliest", "session.timeout.ms": "6000"])
        try consumer.subscribe(["t"])
        var messages: [KafkaMessage] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while messages.count < 10 && ContinuousClock.now < deadline {
            messages += consumer.poll(max: 100, timeout: .milliseconds(200)).messages
        }
        try #require(messages.count == 10, "consumed \(messages.count) of 10")
        for m in messages {
            let i = Int(String(decoding: m.value.dropFirst(), as: UTF8.self))!
            #expect(m.key == Array("k\(i)".utf8) && m.header("h") == "x\(i)" && m.partition == Int32(i % 2))
        }
        let partitions = [TopicPartition("t", 0), TopicPartition("t", 1)]
        try consumer.commit([partitions[0]: 5, partitions[1]: 3])
        #expect(try consumer.committed(partitions) == [partitions[0]: 5, partitions[1]: 3])
        #expect(try consumer.highWatermark(partitions[0]) == 5 && consumer.highWatermark(partitions[1]) == 5)
        consumer.close()
    }

    @Test("bad settings are errors naming the property, not a crash")
    func badSettings() {
        do {
            _ = try KafkaProducer(properties: ["no.such.property": "1"])
            Issue.record("an unknown property was accepted")
        } catch {
            #expect(error.message.contains("no.such.property"), "\(error)")
        }
        do {
            _ = try KafkaConsumer(properties: ["bootstrap.servers": "127.0.0.1:1"])
            Issue.record("a consumer without group.id was made")
        } catch {
            #expect(error.message.contains("group.id"), "\(error)")
        }
    }
}
