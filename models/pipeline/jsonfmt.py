"""JSON for committed goldens: indented objects, but each list of numbers or strings on one line."""
from __future__ import annotations

import json
from typing import Any

import numpy as np


def dumps(value: Any, indent: int = 1, _level: int = 0) -> str:
    pad = " " * (indent * (_level + 1))
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{pad}{json.dumps(k)}: {dumps(v, indent, _level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * (indent * _level) + "}"
    if isinstance(value, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in value):
            return json.dumps(list(value), ensure_ascii=False)
        return "[\n" + ",\n".join(pad + dumps(v, indent, _level + 1) for v in value) + "\n" + " " * (indent * _level) + "]"
    return json.dumps(value, ensure_ascii=False)


def f32_list(values: np.ndarray) -> list[float]:
    """Shortest decimal that reads back as the same float32 (Math.fround(x) === the engine's value)."""
    return [float(repr(np.float32(x))) for x in values]
