import FeatureStoreCore
import Kafka
import Logging
import StreamIngestion

/// The Kafka clients of an ingester, made from a repository's `kafka` settings: a consumer in the project's group
/// subscribed to the topics, a dead-letter producer when a dead-letter topic is set, and with
/// `bootstrap_servers: embedded` librdkafka's mock cluster in this process holding the topics.
struct KafkaConnection {
    let consumer: KafkaStreamConsumer
    let deadLetters: KafkaDeadLetterSink?
    let embeddedCluster: KafkaMockCluster?

    init(kafka: KafkaConfig, project: String, topics: [String], bootstrapServers: String?, logger: Logger) throws(StreamError) {
        var properties = kafka.properties
        let servers = bootstrapServers ?? kafka.bootstrapServers
        if servers == KafkaConfig.embedded {
            // The embedded default: a mock cluster on loopback speaking the real protocol (in memory, gone at exit).
            do {
                let cluster = try KafkaMockCluster(brokers: 1)
                for topic in topics { try cluster.createTopic(topic, partitions: 3) }
                if let dead = kafka.deadLetterTopic { try cluster.createTopic(dead, partitions: 1) }
                embeddedCluster = cluster
                properties["bootstrap.servers"] = cluster.bootstrapServers
                logger.notice("embedded Kafka (librdkafka mock cluster) listening", metadata: [
                    "bootstrap_servers": "\(cluster.bootstrapServers)", "topics": "\(topics.joined(separator: ","))"])
            } catch {
                throw StreamError("cannot start the embedded Kafka cluster", cause: error)
            }
        } else {
            embeddedCluster = nil
            properties["bootstrap.servers"] = servers
        }
        properties["group.id"] = kafka.group(project: project)
        properties["client.id"] = properties["client.id"] ?? "featurestore-ingest"
        // Freshness first: a fetch returns after at most 50 ms when a partition is quiet (librdkafka waits 500 ms).
        properties["fetch.wait.max.ms"] = properties["fetch.wait.max.ms"] ?? "50"
        do {
            let kafkaConsumer = try KafkaConsumer(properties: properties)
            try kafkaConsumer.subscribe(topics)
            consumer = KafkaStreamConsumer(kafkaConsumer)
            if kafka.deadLetterTopic != nil {
                var producerProperties = kafka.properties
                producerProperties["bootstrap.servers"] = properties["bootstrap.servers"]
                deadLetters = KafkaDeadLetterSink(try KafkaProducer(properties: producerProperties))
            } else {
                deadLetters = nil
            }
        } catch {
            throw StreamError("kafka: cannot make the consumer", cause: error)
        }
    }
}
