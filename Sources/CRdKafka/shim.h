// librdkafka (Debian: librdkafka-dev), the standard C client of Kafka, with its built-in mock cluster.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
