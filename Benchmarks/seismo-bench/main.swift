import SeismoKafka
let cluster = try EmbeddedKafkaCluster(brokers: 1)
try cluster.createTopic("t", partitions: 1)
var conf = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
if CommandLine.arguments.count > 1 { conf.idempotence = false }
conf.client.properties["debug"] = "broker,msg,eos,protocol"
import Logging
var lg = Logger(label: "p"); lg.logLevel = .info
let producer = try KafkaProducer(configuration: conf, logger: lg)
let batch = try producer.enqueue([ProducerRecord(topic: "t", value: [1,2,3])])
print("enqueued")
try await Task.sleep(for: .seconds(3))
print("complete:", batch.isComplete, producer.inFlight)
