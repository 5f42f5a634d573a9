// featurestore-fold: what each partition of a Spark job runs (see SparkFold in target SparkOfflineEngine).
import Foundation
import SparkOfflineEngine

exit(await SparkFold.main(CommandLine.arguments))
