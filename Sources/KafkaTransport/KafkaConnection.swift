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

    init(kafka: KafkaConfig, project: String, topics: [String], bootstrapServers: String?, instanceID: String?, logger: Logger) throws(StreamError) {
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
        // A member that dies without leaving (kill -9, a lost host) holds its partitions until its session expires:
        // 10 s rather than librdkafka's 45 s (heartbeats come from librdkafka's own thread, not from our batches, so
        // a slow batch does not end a session). Settings may say otherwise.
        properties["session.timeout.ms"] = properties["session.timeout.ms"] ?? "10000"
        properties["heartbeat.interval.ms"] = properties["heartbeat.interval.ms"] ?? "2000"
        // Static membership: a restarted instance rejoins as itself and gets its partitions back without waiting for
        // the session of its previous process to expire (the settings cannot name one: they are shared by all).
        if let instanceID {
            properties["group.instance.id"] = instanceID
            logger.info("static group membership", metadata: ["group.instance.id": "\(instanceID)"])
        }
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
