"""The training corpus's source packages (data/allowlist.json) and where fetch_corpus.py puts each one:
.cache/corpus/raw/<source>/<name>@<version>/, complete once its marker file exists. Read by
fetch_corpus.py and clean_corpus.py."""
from __future__ import annotations

import json
from pathlib import Path

from paths import CORPUS_DIR

ALLOWLIST = Path(__file__).resolve().parent / "data" / "allowlist.json"
CORPUS = CORPUS_DIR
MARKER = ".flashcode-fetch.json"


def package_id(pkg: dict) -> str:
    return f"{pkg['source']}:{pkg['name']}@{pkg['version']}"


def raw_dir(pkg: dict, corpus: Path = CORPUS) -> Path:
    return corpus / "raw" / pkg["source"] / f"{pkg['name']}@{pkg['version']}"


def load_allowlist(path: Path = ALLOWLIST) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))
