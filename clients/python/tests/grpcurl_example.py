"""Sends a README grpcurl command with grpcio, as grpcurl would: grpcurl is in neither Debian's packages nor PyPI, so
the suite reads its command line (the proto file by -import-path and -proto, the JSON body of -d, -H headers, the
method) and makes the same call. Prints the answer as grpcurl does (protobuf JSON) and exits 1 on any error.

    python grpcurl_example.py REPOSITORY_ROOT ADDRESS 'grpcurl -plaintext ... localhost:6570 pkg.Service/Method'
"""
import os
import shlex
import sys

import grpc
from google.protobuf import json_format, message_factory

from featurestore.v1 import serving_pb2

root, address, command = sys.argv[1:4]
words = shlex.split(command.replace("\\\n", " "))
if not words or words[0] != "grpcurl":
    sys.exit(f"not a grpcurl command: {command!r}")
flags: dict[str, list[str]] = {}
positional: list[str] = []
i = 1
while i < len(words):
    word = words[i]
    if word in ("-plaintext",):
        flags.setdefault(word, []).append("")
    elif word in ("-d", "-H", "-import-path", "-proto"):
        flags.setdefault(word, []).append(words[i + 1])
        i += 1
    elif word.startswith("-"):
        sys.exit(f"grpcurl flag {word} is not understood by this check")
    else:
        positional.append(word)
    i += 1
if "-plaintext" not in flags or len(positional) != 2:
    sys.exit(f"expected -plaintext, an address and a method: {words}")
if positional[0] != "localhost:6570":
    sys.exit(f"the example's address {positional[0]} is not FeatureServer's default gRPC address localhost:6570")
proto = os.path.join(root, flags["-import-path"][0], flags["-proto"][0])
if not os.path.isfile(proto):
    sys.exit(f"-proto: no file {proto}")
if serving_pb2.DESCRIPTOR.name != flags["-proto"][0]:
    sys.exit(f"-proto: {flags['-proto'][0]} is not the API's file ({serving_pb2.DESCRIPTOR.name})")
service_name, _, method_name = positional[1].partition("/")
service = serving_pb2.DESCRIPTOR.pool.FindServiceByName(service_name)
method = service.FindMethodByName(method_name)
if method is None:
    sys.exit(f"no method {method_name} in {service_name}")
request_class = message_factory.GetMessageClass(method.input_type)
response_class = message_factory.GetMessageClass(method.output_type)
request = json_format.Parse(flags.get("-d", ["{}"])[0], request_class())
metadata = [tuple(part.strip() for part in header.split(":", 1)) for header in flags.get("-H", [])]
with grpc.insecure_channel(address) as channel:
    call = channel.unary_unary(f"/{service_name}/{method_name}", request_serializer=request_class.SerializeToString,
                               response_deserializer=response_class.FromString)
    try:
        response = call(request, metadata=metadata or None, timeout=30)
    except grpc.RpcError as error:
        sys.exit(f"ERROR:\n  Code: {error.code().name}\n  Message: {error.details()}")
print(json_format.MessageToJson(response))
