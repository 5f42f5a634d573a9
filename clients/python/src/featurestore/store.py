"""FeatureStore: training sets through `featurectl join`, online features and pushes through FeatureServer's gRPC API."""
from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import subprocess
import tempfile
from typing import Any, Mapping, Sequence

import grpc
import pyarrow as pa
import pyarrow.parquet as pq
from google.protobuf import json_format

from .v1 import serving_pb2, serving_pb2_grpc

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_STATUS = {
    serving_pb2.PRESENT: "PRESENT",
    serving_pb2.NULL_VALUE: "NULL_VALUE",
    serving_pb2.NOT_FOUND: "NOT_FOUND",
    serving_pb2.OUTSIDE_MAX_AGE: "OUTSIDE_MAX_AGE",
}


class FeatureStoreError(Exception):
    """A refused call: featurectl's error text (with the file:line:column of a definition) or FeatureServer's status
    and message (naming the request's field)."""

    def __init__(self, message: str, code: str = "featurectl") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _plain(v: Any) -> Any:
    """A numpy scalar (numpy.int64, numpy.float32, numpy.bool_, numpy.datetime64) as the Python value it holds."""
    if type(v).__module__ == "numpy" and hasattr(v, "item"):
        item = v.item()
        if isinstance(item, int) and str(getattr(v, "dtype", "")).startswith("datetime64"):
            # datetime64 with a unit finer than microseconds comes out as an int of that unit.
            return _EPOCH + _dt.timedelta(microseconds=int(v.astype("datetime64[us]").astype("int64")))
        return item
    return v


def _micros(t: Any) -> int:
    """A time as microseconds since the epoch: a datetime (naive: UTC), a pandas Timestamp, or an int of microseconds."""
    t = _plain(t)
    if isinstance(t, bool):
        raise FeatureStoreError(f"a time must be a datetime or microseconds since the epoch, not {t!r}", "INVALID_ARGUMENT")
    if isinstance(t, int):
        return t
    if hasattr(t, "to_pydatetime"):
        t = t.to_pydatetime()
    if isinstance(t, _dt.datetime):
        if t.tzinfo is None:
            t = t.replace(tzinfo=_dt.timezone.utc)
        delta = t - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    raise FeatureStoreError(f"a time must be a datetime or microseconds since the epoch, not {t!r}", "INVALID_ARGUMENT")


def _time_argument(t: Any) -> str:
    """A time for featurectl: a string as given (`now`, `now-1d`, ISO-8601), a datetime in ISO-8601 UTC."""
    if isinstance(t, str):
        return t
    micros = _micros(t)
    return (_EPOCH + _dt.timedelta(microseconds=micros)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _value(v: Any) -> serving_pb2.Value:
    """A Python value as the API's Value (None: unset; float: double; datetime: timestamp)."""
    out = serving_pb2.Value()
    v = _plain(v)
    if v is None or (hasattr(v, "to_pydatetime") and str(v) == "NaT"):
        return out
    if isinstance(v, bool):
        out.bool_value = v
    elif isinstance(v, int):
        out.int64_value = v
    elif isinstance(v, float):
        out.double_value = v
    elif isinstance(v, str):
        out.string_value = v
    elif isinstance(v, (bytes, bytearray)):
        out.bytes_value = bytes(v)
    elif isinstance(v, _dt.datetime) or hasattr(v, "to_pydatetime"):
        out.timestamp_micros = _micros(v)
    elif isinstance(v, (list, tuple)):
        out.list_value.values.extend(_value(x) for x in v)
    else:
        raise FeatureStoreError(f"cannot send a value of type {type(v).__name__}: {v!r}", "INVALID_ARGUMENT")
    return out


def _typed_value(v: Any, type_name: str) -> serving_pb2.Value:
    """A Python value as the Value of a feature of `type_name` (float32 features take float_value)."""
    v = _plain(v)
    if v is None or (isinstance(v, float) and v != v and not type_name.startswith("float")):
        return serving_pb2.Value()  # a NaN where the feature is not a float: pandas' missing value
    numeric = type_name in ("int32", "int64", "float32", "float64")
    if numeric and (isinstance(v, bool) or not isinstance(v, (int, float))):
        # Never guessed: a bool or a string is not a number (the server refuses them too).
        raise FeatureStoreError(f"{v!r} is a {type(v).__name__}, and the feature is {type_name}", "INVALID_ARGUMENT")
    if type_name in ("int32", "int64") and isinstance(v, float):
        if not v.is_integer():
            raise FeatureStoreError(f"{v!r} is not an integer, and the feature is {type_name}", "INVALID_ARGUMENT")
    if type_name.startswith("list<") and isinstance(v, (list, tuple)):
        inner = type_name[5:-1]
        out = serving_pb2.Value()
        out.list_value.values.extend(_typed_value(x, inner) for x in v)
        return out
    if type_name == "float32":
        out = serving_pb2.Value()
        out.float_value = float(v)
        return out
    if type_name == "float64":
        return _value(float(v))
    if type_name in ("int32", "int64"):
        return _value(int(v))
    return _value(v)


def _datetime(micros: int) -> _dt.datetime | int:
    """Microseconds since the epoch as a UTC datetime, or the int itself beyond datetime's years 1 to 9999."""
    try:
        return _EPOCH + _dt.timedelta(microseconds=micros)
    except OverflowError:
        return micros


def _python(value: serving_pb2.Value) -> Any:
    """The API's Value as a Python value (timestamps as UTC datetimes; None when unset)."""
    kind = value.WhichOneof("kind")
    if kind is None:
        return None
    if kind == "list_value":
        return [_python(v) for v in value.list_value.values]
    if kind == "timestamp_micros":
        return _datetime(value.timestamp_micros)
    if kind == "bytes_value":
        return bytes(value.bytes_value)
    return getattr(value, kind)


def _key_column(name: str, values: Sequence[Any]) -> serving_pb2.KeyColumn:
    if isinstance(values, (str, bytes)):
        raise FeatureStoreError(f"join key '{name}': expected a list of values, not one {type(values).__name__}", "INVALID_ARGUMENT")
    values = [_plain(v) for v in values]
    column = serving_pb2.KeyColumn()
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        for i, v in enumerate(values):
            if not -(1 << 63) <= v < (1 << 63):
                raise FeatureStoreError(f"join key '{name}'[{i}]: {v} is outside int64", "INVALID_ARGUMENT")
        column.int64_values.values.extend(values)
    elif all(isinstance(v, str) for v in values):
        column.string_values.values.extend(values)
    elif all(isinstance(v, (bytes, bytearray)) for v in values):
        column.bytes_values.values.extend(bytes(v) for v in values)
    else:
        raise FeatureStoreError(f"join key '{name}': its values must be all ints, all strings or all bytes", "INVALID_ARGUMENT")
    return column


def _columns_of(rows: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]], what: str) -> dict[str, list[Any]]:
    """Rows as columns: a list of dicts (every row with the same keys) or a dict of equally long lists."""
    if isinstance(rows, pa.Table) or (hasattr(rows, "to_dict") and hasattr(rows, "columns")):
        columns = _table(rows).to_pydict()
    elif isinstance(rows, Mapping):
        for k, v in rows.items():
            if isinstance(v, (str, bytes)):
                raise FeatureStoreError(f"{what}: column '{k}' must be a list of values, not one {type(v).__name__}", "INVALID_ARGUMENT")
        columns = {k: list(v) for k, v in rows.items()}
    else:
        rows = list(rows)
        names = list(rows[0].keys()) if rows else []
        for i, row in enumerate(rows):
            if set(row.keys()) != set(names):
                raise FeatureStoreError(f"{what} row {i} has keys {sorted(row.keys())}, row 0 has {sorted(names)}", "INVALID_ARGUMENT")
        columns = {k: [row[k] for row in rows] for k in names}
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise FeatureStoreError(f"{what}: columns of different lengths {sorted(lengths)}", "INVALID_ARGUMENT")
    return columns


def _table(data: Any) -> pa.Table:
    """A pyarrow Table of entity rows or pushed rows: a pyarrow Table, a pandas DataFrame or a dict of lists."""
    if isinstance(data, pa.Table):
        return data
    if hasattr(data, "to_dict") and hasattr(data, "columns"):  # pandas
        return pa.Table.from_pandas(data, preserve_index=False)
    if isinstance(data, Mapping):
        return pa.table({k: list(v) for k, v in data.items()})
    raise FeatureStoreError(f"expected a pandas DataFrame, a pyarrow Table or a dict of columns, not {type(data).__name__}", "INVALID_ARGUMENT")


class RetrievalJob:
    """A training set to build: `featurectl join` runs when it is first asked for (`to_arrow`, `to_df`)."""

    def __init__(self, store: "FeatureStore", entity_df: Any, arguments: list[str]) -> None:
        self._store = store
        self._entities = _table(entity_df)
        self._arguments = arguments
        self._result: pa.Table | None = None

    def to_arrow(self) -> pa.Table:
        """The entity rows with their features, point-in-time correct, as `featurectl join` writes them."""
        if self._result is None:
            with tempfile.TemporaryDirectory(prefix="featurestore-") as folder:
                entities = os.path.join(folder, "entities.parquet")
                out = os.path.join(folder, "training.parquet")
                pq.write_table(self._entities, entities)
                self._store._featurectl(["join", "--entities", entities, "--out", out, *self._arguments])
                self._result = pq.read_table(out)
        return self._result

    def to_df(self) -> Any:
        """The training set as a pandas DataFrame (needs pandas: `pip install ./clients/python[pandas]`)."""
        return self.to_arrow().to_pandas()


class OnlineResponse:
    """Online features: per feature, one value, status and event time per entity row, in request order."""

    def __init__(self, entities: dict[str, list[Any]], response: serving_pb2.GetOnlineFeaturesResponse) -> None:
        self.entities = entities
        self.feature_names: list[str] = [c.name for c in response.features]
        self.values: dict[str, list[Any]] = {c.name: [_python(v) for v in c.values] for c in response.features}
        self.statuses: dict[str, list[str]] = {c.name: [_STATUS.get(s, "UNKNOWN") for s in c.statuses] for c in response.features}
        self.event_timestamps: dict[str, list[_dt.datetime | int | None]] = {
            c.name: [None if t == 0 else _datetime(t) for t in c.event_timestamps_micros] for c in response.features
        }

    def to_dict(self, include_statuses: bool = False) -> dict[str, list[Any]]:
        """Join keys and features as columns (Feast's shape); with `include_statuses`, `NAME__status` columns too."""
        out: dict[str, list[Any]] = dict(self.entities)
        out.update(self.values)
        if include_statuses:
            out.update({f"{name}__status": statuses for name, statuses in self.statuses.items()})
        return out

    def to_df(self, include_statuses: bool = False) -> Any:
        """``to_dict`` as a pandas DataFrame (needs pandas)."""
        import pandas

        return pandas.DataFrame(self.to_dict(include_statuses))


class FeatureStore:
    """A feature repository and, for online work, the FeatureServer serving it.

    Args:
        repo_path: the repository (feature_store.yaml and the definitions), for `featurectl` commands.
        server: FeatureServer's gRPC address `host:port` (None: online calls are refused).
        token: a bearer token for a server whose `auth:` asks for one (default: FEATURESTORE_TOKEN).
        tls: None/False for plaintext; True for TLS with the system's roots; a CA file path; or a dict with `ca`,
            and `cert` and `key` for mTLS.
        featurectl: the featurectl program (default: FEATURECTL, then the PATH).
        timeout: seconds per gRPC call.
    """

    def __init__(self, repo_path: str = ".", server: str | None = None, token: str | None = None, tls: Any = None,
                 featurectl: str | None = None, timeout: float = 10.0) -> None:
        self.repo_path = os.path.abspath(repo_path)
        self.server = server
        self.token = token if token is not None else os.environ.get("FEATURESTORE_TOKEN")
        self.tls = tls
        self.timeout = timeout
        self.featurectl = featurectl or os.environ.get("FEATURECTL") or shutil.which("featurectl") or "featurectl"
        self._channel: grpc.Channel | None = None
        self._stub: serving_pb2_grpc.FeatureServingStub | None = None

    # featurectl

    def _featurectl(self, arguments: list[str]) -> str:
        try:
            done = subprocess.run([self.featurectl, *arguments, "--repo", self.repo_path], capture_output=True, text=True)
        except FileNotFoundError as error:
            raise FeatureStoreError(f"featurectl not found at '{self.featurectl}': pass featurectl= or set FEATURECTL") from error
        if done.returncode != 0:
            raise FeatureStoreError(done.stderr.strip() or done.stdout.strip() or f"featurectl {arguments[0]} failed ({done.returncode})")
        return done.stdout

    def get_historical_features(self, entity_df: Any, features: Sequence[str] | None = None, service: str | None = None,
                                full_feature_names: bool = False, timestamp_column: str | None = None) -> RetrievalJob:
        """A point-in-time-correct training set for `entity_df` (join keys and an event time per row: pandas,
        pyarrow or a dict of columns): the features of `service`, or `features` (`view:feature`, or `view`)."""
        if (features is None) == (service is None):
            raise FeatureStoreError("give features=[...] or service=..., one of them", "INVALID_ARGUMENT")
        arguments = ["--service", service] if service is not None else ["--features", ",".join(features or [])]
        if full_feature_names:
            arguments.append("--full-feature-names")
        if timestamp_column:
            arguments += ["--timestamp-column", timestamp_column]
        return RetrievalJob(self, entity_df, arguments)

    def materialize(self, start_date: Any, end_date: Any, views: Sequence[str] | None = None) -> str:
        """Loads each online view's latest rows with `start <= event time < end` (datetimes or featurectl's time
        forms such as "now-1d") into the online store; returns featurectl's report."""
        return self._featurectl(["materialize", _time_argument(start_date), _time_argument(end_date), *self._views(views)])

    def materialize_incremental(self, end_date: Any, views: Sequence[str] | None = None) -> str:
        """The same from each view's watermark to `end_date`; returns featurectl's report."""
        return self._featurectl(["materialize-incremental", _time_argument(end_date), *self._views(views)])

    def verify(self, views: Sequence[str] | None = None, sample: int | None = None, at: Any = None) -> Any:
        """Online = offline on your data (`featurectl verify --json`): the parsed report."""
        arguments = ["verify", "--json", *self._views(views)]
        if sample is not None:
            arguments += ["--sample", str(sample)]
        if at is not None:
            arguments += ["--at", _time_argument(at)]
        try:
            return json.loads(self._featurectl(arguments))
        except FeatureStoreError as error:
            # featurectl exits 1 when it finds mismatches, with the report on stdout: that is a result, not a failure.
            try:
                return json.loads(error.message)
            except ValueError:
                raise error from None

    @staticmethod
    def _views(views: Sequence[str] | None) -> list[str]:
        return ["--views", ",".join(views)] if views else []

    # FeatureServer

    def _serving(self) -> serving_pb2_grpc.FeatureServingStub:
        if self.server is None:
            raise FeatureStoreError("no FeatureServer: pass server='host:port' to FeatureStore", "INVALID_ARGUMENT")
        if self._stub is None:
            if not self.tls:
                self._channel = grpc.insecure_channel(self.server)
            else:
                def read(path: str | None) -> bytes | None:
                    if path is None:
                        return None
                    with open(path, "rb") as f:
                        return f.read()
                if isinstance(self.tls, Mapping):
                    credentials = grpc.ssl_channel_credentials(read(self.tls.get("ca")), read(self.tls.get("key")), read(self.tls.get("cert")))
                elif isinstance(self.tls, str):
                    credentials = grpc.ssl_channel_credentials(read(self.tls))
                else:
                    credentials = grpc.ssl_channel_credentials()
                self._channel = grpc.secure_channel(self.server, credentials)
            self._stub = serving_pb2_grpc.FeatureServingStub(self._channel)
        return self._stub

    def _call(self, method: str, request: Any) -> Any:
        metadata = [("authorization", f"Bearer {self.token}")] if self.token else None
        try:
            return getattr(self._serving(), method)(request, timeout=self.timeout, metadata=metadata)
        except grpc.RpcError as error:
            code = error.code()
            raise FeatureStoreError(f"{code.name if code else 'UNKNOWN'}: {error.details()}", code.name if code else "UNKNOWN") from None

    def get_online_features(self, features: Sequence[str] | None = None, entity_rows: Any = None, service: str | None = None,
                            request_context: Mapping[str, Sequence[Any]] | None = None,
                            full_feature_names: bool = False) -> OnlineResponse:
        """The features of `service`, or `features`, for `entity_rows` (a list of dicts, or a dict of columns) at
        the server's clock; `request_context`: per request field of on-demand views, one value per row."""
        if (features is None) == (service is None):
            raise FeatureStoreError("give features=[...] or service=..., one of them", "INVALID_ARGUMENT")
        entities = _columns_of(entity_rows if entity_rows is not None else [], "entity_rows")
        request = serving_pb2.GetOnlineFeaturesRequest(full_feature_names=full_feature_names)
        for name, values in entities.items():
            request.entities[name].CopyFrom(_key_column(name, values))
        if service is not None:
            request.feature_service = service
        else:
            request.feature_refs.refs.extend(features or [])
        for name, values in (request_context or {}).items():
            request.request_context[name].values.extend(_value(v) for v in values)
        return OnlineResponse(entities, self._call("GetOnlineFeatures", request))

    def push(self, push_source_name: str, df: Any, timestamp_column: str = "event_timestamp",
             created_column: str | None = None) -> dict[str, int]:
        """Writes rows to a plain view's online table (`push_source_name`: the view): its join keys, an event time
        column and any of its features (event-time ordered: an older row never replaces a newer one)."""
        view = self.get_feature_view(push_source_name)
        table = _table(df)
        rows = table.to_pydict()
        if timestamp_column not in rows:
            raise FeatureStoreError(f"push to '{push_source_name}': no '{timestamp_column}' column (the rows' event times)", "INVALID_ARGUMENT")
        request = serving_pb2.PushFeaturesRequest(feature_view=push_source_name)
        for key in view.get("join_keys", []):
            if key["name"] not in rows:
                raise FeatureStoreError(f"push to '{push_source_name}': no '{key['name']}' column (a join key)", "INVALID_ARGUMENT")
            request.entities[key["name"]].CopyFrom(_key_column(key["name"], rows[key["name"]]))
        if created_column and created_column not in rows:
            raise FeatureStoreError(f"push to '{push_source_name}': no '{created_column}' column (created_column)", "INVALID_ARGUMENT")

        def converted(name: str, values: list, convert: Any) -> list:
            out = []
            for i, v in enumerate(values):
                try:
                    out.append(convert(v))
                except FeatureStoreError as error:
                    raise FeatureStoreError(f"push to '{push_source_name}': column '{name}' row {i}: {error.message}", "INVALID_ARGUMENT") from error
                except (ValueError, TypeError, OverflowError) as error:
                    raise FeatureStoreError(f"push to '{push_source_name}': column '{name}' row {i}: {error}", "INVALID_ARGUMENT") from error
            return out

        request.event_timestamps_micros.extend(converted(timestamp_column, rows[timestamp_column], _micros))
        if created_column:
            request.created_timestamps_micros.extend(converted(created_column, rows[created_column], _micros))
        # Every other column is a feature: one the view lacks is refused by the server (with a suggestion), never dropped.
        types = {feature["name"]: feature.get("type", "") for feature in view.get("features", [])}
        keys = {key["name"] for key in view.get("join_keys", [])}
        for name, values in rows.items():
            if name in keys or name in (timestamp_column, created_column):
                continue
            request.features[name].values.extend(converted(name, values, lambda v, t=types.get(name, ""): _typed_value(v, t)))
        response = self._call("PushFeatures", request)
        return {"rows_received": response.rows_received, "rows_written": response.rows_written}

    def list_feature_views(self) -> list[dict[str, Any]]:
        """The feature views, from the server's catalog API."""
        response = self._call("ListFeatureViews", serving_pb2.ListFeatureViewsRequest())
        return [json_format.MessageToDict(v, preserving_proto_field_name=True) for v in response.feature_views]

    def get_feature_view(self, name: str) -> dict[str, Any]:
        """One feature view: entities, join keys, source, ttl, features with their types, owner, tags."""
        view = self._call("GetFeatureView", serving_pb2.GetFeatureViewRequest(name=name))
        return json_format.MessageToDict(view, preserving_proto_field_name=True)

    def close(self) -> None:
        """Closes the gRPC channel."""
        if self._channel is not None:
            self._channel.close()
            self._channel = self._stub = None
