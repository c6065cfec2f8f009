"""The tokenizer's training corpus: a fixed list of files already on the machine, pinned by sha256.

Python from Debian's libpython3.11-stdlib 3.11.2 (PSF licence) and TypeScript from the npm package
onnxruntime-common 1.30.0 (MIT; pinned by package-lock.json). Pinning the bytes makes the trained
tokenizer reproducible; on a machine whose copies differ, `check()` says which, and the fixture's
byte-for-byte regeneration test is skipped rather than failing.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STDLIB = Path("/usr/lib/python3.11")
ORT_COMMON = REPO / "node_modules" / "onnxruntime-common" / "lib"

# (path, sha256)
FILES: list[tuple[Path, str]] = [
    (STDLIB / "bisect.py", "e5b2ff166f48a06e70ae831d8c9b47283fcd0c254306eee12d3dae9c55e11526"),
    (STDLIB / "contextlib.py", "a907c5d2151782ac1253dc9eade52fd834a1db43f52cc2b5094dcc4b359de18e"),
    (STDLIB / "dataclasses.py", "2b43fbb6faa846bd01d682911953e02a9e43a764c85e687bce0c006d8e30ff9a"),
    (STDLIB / "fnmatch.py", "6683da36e47af523f3f41e18ad244d837783e19e98911cc0b7415dea81494ebc"),
    (STDLIB / "functools.py", "6d80018a3fa9fed44c5b78f881987ee3ab3fb1238b077b4e6dcb4b76da7db73b"),
    (STDLIB / "glob.py", "fa579f8a50a66313d34d339f10be0821c9b4fed6207e8ba8e29ed1c5e119f740"),
    (STDLIB / "graphlib.py", "7bd338c5a475d1101064603d3baa5507446d3c5e73f741f6d6e77c6204c1eb65"),
    (STDLIB / "heapq.py", "6d43277e5c76fc0f073cd388fcff852d14d068f6bb6d4886c340f8b75a1229a9"),
    (STDLIB / "json" / "decoder.py", "9f02654649816145bc76f8c210a5fe3ba1de142d4d97a1c93105732e747c285b"),
    (STDLIB / "json" / "encoder.py", "7c358788fbb2a6a07f66f1f8446c52396f35fc201108f666d5be002d86f31af2"),
    (STDLIB / "queue.py", "f6c37fc37cd7440979f7d22d40ee818fa3b714c573610c08fa52911d541193f0"),
    (STDLIB / "shlex.py", "42ab6060f316e121e374e6621d8c1c98b8db323903c3df289a810c45a8ae46a7"),
    (STDLIB / "string.py", "24aeae1f0526250f442022022bf98df9a823b1cb330543ee79e70e44907462e9"),
    (STDLIB / "textwrap.py", "62867e40cdea6669b361f72af4d7daf0359f207c92cbeddfc7c7506397c1f31c"),
    (ORT_COMMON / "backend-impl.ts", "e900cac764674849736df0c96e31ea7a8e1a7bb0dadcfd3089f5e4dded01a4ec"),
    (ORT_COMMON / "env.ts", "9630c7adbb557a78b3b0d598e0ac93ba228fe9df9ee9df03532fa8a4a0c0a99e"),
    (ORT_COMMON / "inference-session.ts", "897b5a5cf4026e40c8340bdb65dea04746cb269912b09494275b3261056d0c17"),
    (ORT_COMMON / "tensor.ts", "0d6df6db3264622732592cf580f8b4f5284573b4bb6b511fdd5f0ddd93186a67"),
    (ORT_COMMON / "tensor-factory-impl.ts", "791df6ff8f1134c5ef75c0261f6ed41d8e8c9b00cfdfea9ef2369f1ac80d88b7"),
    (ORT_COMMON / "tensor-impl.ts", "5e143580f35989cf58b4bb50812bf606f0510d010350314e7a446aba6150848a"),
]


def check() -> list[str]:
    """Problems that make this machine's corpus differ from the pinned one; empty when identical."""
    problems = []
    for path, sha in FILES:
        if not path.is_file():
            problems.append(f"{path} is missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != sha:
            problems.append(f"{path} differs from the pinned copy")
    return problems


def texts() -> list[str]:
    """The corpus, in the fixed order above. Raises if the pinned files are not all present."""
    problems = check()
    if problems:
        raise FileNotFoundError("tokenizer corpus differs from the pinned one: " + "; ".join(problems))
    return [path.read_text(encoding="utf-8") for path, _ in FILES]
