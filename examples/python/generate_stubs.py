"""Generates the Python gRPC stubs of the feature store's API from Protos/ (with grpcio-tools).

The stubs go to examples/python/generated/ (not committed). client.py runs this when they are missing or older than
the .proto files, so `python client.py` is enough.
"""
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTOS = HERE.parent.parent / "Protos"
OUT = HERE / "generated"
FILES = ["featurestore/v1/serving.proto"]  # health stubs come from grpcio-health-checking


def stale() -> bool:
    stamp = OUT / ".stamp"
    if not stamp.exists():
        return True
    built = stamp.stat().st_mtime
    return any((PROTOS / f).stat().st_mtime > built for f in FILES)


def generate() -> None:
    from grpc_tools import protoc  # grpcio-tools
    import grpc_tools

    OUT.mkdir(exist_ok=True)
    include = str(Path(grpc_tools.__file__).parent / "_proto")  # google/protobuf/*.proto
    args = ["protoc", f"-I{PROTOS}", f"-I{include}", f"--python_out={OUT}", f"--grpc_python_out={OUT}", *FILES]
    if protoc.main(args) != 0:
        sys.exit(f"generate_stubs: protoc failed for {FILES}")
    # Packages for the generated modules (featurestore.v1 under generated/).
    for folder in {OUT / Path(f).parent for f in FILES}:
        while folder != OUT:
            (folder / "__init__.py").touch()
            folder = folder.parent
    (OUT / ".stamp").touch()


def ensure() -> None:
    """Generates the stubs if needed and puts them on the import path."""
    if stale():
        generate()
    if str(OUT) not in sys.path:
        sys.path.insert(0, str(OUT))


if __name__ == "__main__":
    generate()
    print(f"stubs written to {os.path.relpath(OUT)}")
