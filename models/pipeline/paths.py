"""Where the pipeline's stages read and write (all under the repository's gitignored .cache/)."""
from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORPUS_DIR = REPO / ".cache" / "corpus"
TRAIN_ROOT = REPO / ".cache" / "train"
DEFAULT_CONFIG = Path(__file__).resolve().parent / "configs" / "code-v1.json"


def read_config(path: Path | None = None) -> dict:
    return json.loads(Path(path or DEFAULT_CONFIG).read_text())


def run_dir(config: dict) -> Path:
    """.cache/train/<run>/: tokenizer, token data, checkpoints and logs of one config."""
    return TRAIN_ROOT / config["run"]
