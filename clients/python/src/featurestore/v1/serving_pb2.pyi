from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FeatureStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FEATURE_STATUS_UNSPECIFIED: _ClassVar[FeatureStatus]
    PRESENT: _ClassVar[FeatureStatus]
    NULL_VALUE: _ClassVar[FeatureStatus]
    NOT_FOUND: _ClassVar[FeatureStatus]
    OUTSIDE_MAX_AGE: _ClassVar[FeatureStatus]
FEATURE_STATUS_UNSPECIFIED: FeatureStatus
PRESENT: FeatureStatus
NULL_VALUE: FeatureStatus
NOT_FOUND: FeatureStatus
OUTSIDE_MAX_AGE: FeatureStatus

class Value(_message.Message):
    __slots__ = ("bool_value", "int64_value", "float_value", "double_value", "string_value", "bytes_value", "timestamp_micros", "list_value")
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT64_VALUE_FIELD_NUMBER: _ClassVar[int]
    FLOAT_VALUE_FIELD_NUMBER: _ClassVar[int]
    DOUBLE_VALUE_FIELD_NUMBER: _ClassVar[int]
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    BYTES_VALUE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MICROS_FIELD_NUMBER: _ClassVar[int]
    LIST_VALUE_FIELD_NUMBER: _ClassVar[int]
    bool_value: bool
    int64_value: int
    float_value: float
    double_value: float
    string_value: str
    bytes_value: bytes
    timestamp_micros: int
    list_value: ValueList
    def __init__(self, bool_value: _Optional[bool] = ..., int64_value: _Optional[int] = ..., float_value: _Optional[float] = ..., double_value: _Optional[float] = ..., string_value: _Optional[str] = ..., bytes_value: _Optional[bytes] = ..., timestamp_micros: _Optional[int] = ..., list_value: _Optional[_Union[ValueList, _Mapping]] = ...) -> None: ...

class ValueList(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedCompositeFieldContainer[Value]
    def __init__(self, values: _Optional[_Iterable[_Union[Value, _Mapping]]] = ...) -> None: ...

class KeyColumn(_message.Message):
    __slots__ = ("int64_values", "string_values", "bytes_values")
    INT64_VALUES_FIELD_NUMBER: _ClassVar[int]
    STRING_VALUES_FIELD_NUMBER: _ClassVar[int]
    BYTES_VALUES_FIELD_NUMBER: _ClassVar[int]
    int64_values: Int64Array
    string_values: StringArray
    bytes_values: BytesArray
    def __init__(self, int64_values: _Optional[_Union[Int64Array, _Mapping]] = ..., string_values: _Optional[_Union[StringArray, _Mapping]] = ..., bytes_values: _Optional[_Union[BytesArray, _Mapping]] = ...) -> None: ...

class Int64Array(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, values: _Optional[_Iterable[int]] = ...) -> None: ...

class StringArray(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, values: _Optional[_Iterable[str]] = ...) -> None: ...

class BytesArray(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, values: _Optional[_Iterable[bytes]] = ...) -> None: ...

class FeatureRefs(_message.Message):
    __slots__ = ("refs",)
    REFS_FIELD_NUMBER: _ClassVar[int]
    refs: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, refs: _Optional[_Iterable[str]] = ...) -> None: ...

class GetOnlineFeaturesRequest(_message.Message):
    __slots__ = ("entities", "feature_service", "feature_refs", "full_feature_names", "request_context")
    class EntitiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: KeyColumn
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[KeyColumn, _Mapping]] = ...) -> None: ...
    class RequestContextEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ValueList
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ValueList, _Mapping]] = ...) -> None: ...
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    FEATURE_SERVICE_FIELD_NUMBER: _ClassVar[int]
    FEATURE_REFS_FIELD_NUMBER: _ClassVar[int]
    FULL_FEATURE_NAMES_FIELD_NUMBER: _ClassVar[int]
    REQUEST_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    entities: _containers.MessageMap[str, KeyColumn]
    feature_service: str
    feature_refs: FeatureRefs
    full_feature_names: bool
    request_context: _containers.MessageMap[str, ValueList]
    def __init__(self, entities: _Optional[_Mapping[str, KeyColumn]] = ..., feature_service: _Optional[str] = ..., feature_refs: _Optional[_Union[FeatureRefs, _Mapping]] = ..., full_feature_names: _Optional[bool] = ..., request_context: _Optional[_Mapping[str, ValueList]] = ...) -> None: ...

class FeatureColumn(_message.Message):
    __slots__ = ("name", "values", "statuses", "event_timestamps_micros")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIMESTAMPS_MICROS_FIELD_NUMBER: _ClassVar[int]
    name: str
    values: _containers.RepeatedCompositeFieldContainer[Value]
    statuses: _containers.RepeatedScalarFieldContainer[FeatureStatus]
    event_timestamps_micros: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, name: _Optional[str] = ..., values: _Optional[_Iterable[_Union[Value, _Mapping]]] = ..., statuses: _Optional[_Iterable[_Union[FeatureStatus, str]]] = ..., event_timestamps_micros: _Optional[_Iterable[int]] = ...) -> None: ...

class GetOnlineFeaturesResponse(_message.Message):
    __slots__ = ("feature_names", "features", "entity_count")
    FEATURE_NAMES_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    ENTITY_COUNT_FIELD_NUMBER: _ClassVar[int]
    feature_names: _containers.RepeatedScalarFieldContainer[str]
    features: _containers.RepeatedCompositeFieldContainer[FeatureColumn]
    entity_count: int
    def __init__(self, feature_names: _Optional[_Iterable[str]] = ..., features: _Optional[_Iterable[_Union[FeatureColumn, _Mapping]]] = ..., entity_count: _Optional[int] = ...) -> None: ...

class LookupStreamRequest(_message.Message):
    __slots__ = ("id", "lookup")
    ID_FIELD_NUMBER: _ClassVar[int]
    LOOKUP_FIELD_NUMBER: _ClassVar[int]
    id: int
    lookup: GetOnlineFeaturesRequest
    def __init__(self, id: _Optional[int] = ..., lookup: _Optional[_Union[GetOnlineFeaturesRequest, _Mapping]] = ...) -> None: ...

class LookupError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class LookupStreamResponse(_message.Message):
    __slots__ = ("id", "features", "error")
    ID_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: int
    features: GetOnlineFeaturesResponse
    error: LookupError
    def __init__(self, id: _Optional[int] = ..., features: _Optional[_Union[GetOnlineFeaturesResponse, _Mapping]] = ..., error: _Optional[_Union[LookupError, _Mapping]] = ...) -> None: ...

class PushFeaturesRequest(_message.Message):
    __slots__ = ("feature_view", "entities", "event_timestamps_micros", "created_timestamps_micros", "features")
    class EntitiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: KeyColumn
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[KeyColumn, _Mapping]] = ...) -> None: ...
    class FeaturesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ValueList
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ValueList, _Mapping]] = ...) -> None: ...
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIMESTAMPS_MICROS_FIELD_NUMBER: _ClassVar[int]
    CREATED_TIMESTAMPS_MICROS_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    feature_view: str
    entities: _containers.MessageMap[str, KeyColumn]
    event_timestamps_micros: _containers.RepeatedScalarFieldContainer[int]
    created_timestamps_micros: _containers.RepeatedScalarFieldContainer[int]
    features: _containers.MessageMap[str, ValueList]
    def __init__(self, feature_view: _Optional[str] = ..., entities: _Optional[_Mapping[str, KeyColumn]] = ..., event_timestamps_micros: _Optional[_Iterable[int]] = ..., created_timestamps_micros: _Optional[_Iterable[int]] = ..., features: _Optional[_Mapping[str, ValueList]] = ...) -> None: ...

class PushFeaturesResponse(_message.Message):
    __slots__ = ("rows_received", "rows_written")
    ROWS_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    ROWS_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    rows_received: int
    rows_written: int
    def __init__(self, rows_received: _Optional[int] = ..., rows_written: _Optional[int] = ...) -> None: ...

class ListFeatureViewsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class JoinKeySpec(_message.Message):
    __slots__ = ("name", "type")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: str
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ...) -> None: ...

class FeatureSpec(_message.Message):
    __slots__ = ("name", "type", "description")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: str
    description: str
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class FeatureViewSpec(_message.Message):
    __slots__ = ("name", "entities", "join_keys", "source", "ttl_seconds", "online", "features", "description", "owner", "tags")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    JOIN_KEYS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ONLINE_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    name: str
    entities: _containers.RepeatedScalarFieldContainer[str]
    join_keys: _containers.RepeatedCompositeFieldContainer[JoinKeySpec]
    source: str
    ttl_seconds: int
    online: bool
    features: _containers.RepeatedCompositeFieldContainer[FeatureSpec]
    description: str
    owner: str
    tags: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., entities: _Optional[_Iterable[str]] = ..., join_keys: _Optional[_Iterable[_Union[JoinKeySpec, _Mapping]]] = ..., source: _Optional[str] = ..., ttl_seconds: _Optional[int] = ..., online: _Optional[bool] = ..., features: _Optional[_Iterable[_Union[FeatureSpec, _Mapping]]] = ..., description: _Optional[str] = ..., owner: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ListFeatureViewsResponse(_message.Message):
    __slots__ = ("feature_views",)
    FEATURE_VIEWS_FIELD_NUMBER: _ClassVar[int]
    feature_views: _containers.RepeatedCompositeFieldContainer[FeatureViewSpec]
    def __init__(self, feature_views: _Optional[_Iterable[_Union[FeatureViewSpec, _Mapping]]] = ...) -> None: ...

class GetFeatureViewRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class FeatureServiceSpec(_message.Message):
    __slots__ = ("name", "features", "description", "owner", "tags")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    name: str
    features: _containers.RepeatedScalarFieldContainer[str]
    description: str
    owner: str
    tags: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., features: _Optional[_Iterable[str]] = ..., description: _Optional[str] = ..., owner: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ListFeatureServicesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListFeatureServicesResponse(_message.Message):
    __slots__ = ("feature_services",)
    FEATURE_SERVICES_FIELD_NUMBER: _ClassVar[int]
    feature_services: _containers.RepeatedCompositeFieldContainer[FeatureServiceSpec]
    def __init__(self, feature_services: _Optional[_Iterable[_Union[FeatureServiceSpec, _Mapping]]] = ...) -> None: ...
