"""A Feast repository mirroring the example's driver_stats view, whose online store is FeatureServer (remote)."""
import os
from datetime import timedelta

from feast import Entity, FeatureView, Field, FileSource, PushSource
from feast.types import Float32, Int64

driver = Entity(name="driver", join_keys=["driver_id"])

driver_stats_source = FileSource(
    name="driver_stats_source",
    path=os.path.join(os.environ["EXAMPLE_REPO"], "data/driver_stats.parquet"),
    timestamp_field="event_timestamp",
    created_timestamp_column="created",
)

# Feast's pushes go through a push source over the batch source; its SDK writes them through the remote store.
driver_stats_push = PushSource(name="driver_stats_push", batch_source=driver_stats_source)

driver_stats = FeatureView(
    name="driver_stats",
    entities=[driver],
    ttl=timedelta(days=1),
    schema=[Field(name="conv_rate", dtype=Float32), Field(name="acc_rate", dtype=Float32), Field(name="avg_daily_trips", dtype=Int64)],
    source=driver_stats_push,
)
