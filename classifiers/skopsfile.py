"""Reading a model's skops file with an explicit list of trusted node types, without importing skops.

Model files are written by ``skops.io.dump`` and hold only dicts, lists, JSON scalars and numeric numpy arrays.
``skops.io`` itself takes seconds to import (it loads scikit-learn and scipy.stats to list trusted types),
which would blow the classifier's cold-start budget, so loading walks the skops schema here and accepts
exactly the node kinds below. Anything else (an object to construct, a function, a pickled ``.bin`` blob,
an object array) is refused before any of it is read; arrays are read with ``allow_pickle=False``.
A test checks that this reader and ``skops.io.load(trusted=[])`` give the same state.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from monitor.errors import ModelError

SUPPORTED_PROTOCOLS = (2,)
# (module, class, skops loader) triples a model file may contain.
TRUSTED_NODES = frozenset(
    {
        ("builtins", "dict", "DictNode"),
        ("builtins", "list", "ListNode"),
        ("builtins", "str", "JsonNode"),
        ("builtins", "int", "JsonNode"),
        ("builtins", "float", "JsonNode"),
        ("builtins", "bool", "JsonNode"),
        ("builtins", "NoneType", "JsonNode"),
        ("builtins", "str", "TypeNode"),
        ("numpy", "ndarray", "NdArrayNode"),
    }
)
_TRUSTED_DTYPES = frozenset("biuf")  # bool, signed, unsigned, float: never object arrays


def untrusted_types(schema: dict) -> list[str]:
    """Every ``module.class (loader)`` in the schema that is not in ``TRUSTED_NODES``, sorted."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "__loader__" in node:
                triple = (node.get("__module__"), node.get("__class__"), node.get("__loader__"))
                if triple not in TRUSTED_NODES or (
                    triple[2] == "NdArrayNode" and node.get("type") != "numpy"
                ):
                    found.add(f"{triple[0]}.{triple[1]} ({triple[2]})")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return sorted(found)


def read_state(path: Path) -> Any:
    """The object stored in a skops file, built only from trusted node types; raises ``ModelError``."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ModelError(f"cannot read model file {path}: {exc}") from exc
    with archive:
        try:
            schema = json.loads(archive.read("schema.json"))
        except (KeyError, ValueError) as exc:
            raise ModelError(f"model file {path} has no readable skops schema: {exc}") from exc
        if not isinstance(schema, dict) or schema.get("protocol") not in SUPPORTED_PROTOCOLS:
            raise ModelError(f"model file {path}: unsupported skops protocol {schema.get('protocol')!r}")
        refused = untrusted_types(schema)
        if refused:
            raise ModelError(f"refusing to load {path}: it contains untrusted types {', '.join(refused)}")
        try:
            return _construct(schema, archive)
        except (KeyError, ValueError, TypeError) as exc:
            raise ModelError(f"model file {path} is malformed: {exc}") from exc


def _construct(node: dict, archive: zipfile.ZipFile) -> Any:
    loader = node["__loader__"]
    if loader == "DictNode":
        keys = node["content"].keys()
        return {
            key: _construct(value, archive) for key, value in zip(keys, node["content"].values(), strict=True)
        }
    if loader == "ListNode":
        return [_construct(item, archive) for item in node["content"]]
    if loader == "JsonNode":
        return json.loads(node["content"])
    if loader == "NdArrayNode":
        array = _npy_array(archive.read(node["file"]))
        if array.dtype.kind not in _TRUSTED_DTYPES:
            raise ValueError(f"array of dtype {array.dtype} in {node['file']}")
        return array
    raise ValueError(f"node loader {loader}")


_NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _npy_array(data: bytes) -> np.ndarray:
    """The array of an ``.npy`` file's bytes, read-only: a view of ``data``, where ``np.load`` of a stream would
    copy the model's megabytes twice more. Never unpickles (object arrays raise ``ValueError``)."""
    stream = io.BytesIO(data)
    read_header = _NPY_HEADERS.get(np.lib.format.read_magic(stream))
    if read_header is None:  # a newer .npy version: numpy's own reader
        return np.load(io.BytesIO(data), allow_pickle=False)
    shape, fortran_order, dtype = read_header(stream)
    if dtype.hasobject:
        raise ValueError("object arrays are not loaded")
    array = np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=stream.tell())
    return array.reshape(shape[::-1]).T if fortran_order else array.reshape(shape)
