"""The feature store's Python SDK: training sets and online features, with Feast's names where the meaning is the same.

    from featurestore import FeatureStore
    store = FeatureStore(repo_path="features", server="127.0.0.1:6570")
    training = store.get_historical_features(entity_df, service="driver_ranking_v1").to_df()
    online = store.get_online_features(service="driver_ranking_v1", entity_rows=[{"driver_id": 1001, "customer_id": 5001}]).to_dict()
"""
from .store import FeatureStore, FeatureStoreError, OnlineResponse, RetrievalJob

__all__ = ["FeatureStore", "FeatureStoreError", "OnlineResponse", "RetrievalJob"]
