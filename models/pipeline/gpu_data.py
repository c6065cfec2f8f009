"""The GPU run's training data, built on the machine that trains (gpu_train.py calls it).

Two sources, both licence-checked:
- `corpus.jsonl.xz`: the allow-listed corpus's train split (clean_corpus.py; npm and Debian packages),
  carried to the machine compressed;
- the machine's own Python: the standard library (PSF-2.0) and every installed distribution whose
  metadata names only permitted licences (`permitted()`), its `.py` files filtered as clean_corpus.py
  filters, exact duplicates of each other and of carried files dropped, held-out distributions and
  files (heldout.jsonl's packages and hashes) left out. `sources()` returns what was used (name,
  version, licence, files, sha256 of the texts in order) so the corpus can be rebuilt.

Examples are cut as prepare_data.py cuts them (fim.chunk_document, fim.make_example) and each piece is
encoded on its own, in worker processes, with Hugging Face `tokenizers` when installed (the GPU
machine) or bpe.ByteLevelBpe otherwise (the same ids; tests/test_gpu_train.py compares them).
"""
from __future__ import annotations

import hashlib
import importlib.metadata as md
import random
import re
import sysconfig
from multiprocessing import Pool
from pathlib import Path

import numpy as np

import bpe
from file_filters import content_hash, content_reason, path_reason
from fim import FimRates, chunk_document, make_example

PERMITTED = [  # (pattern over a licence name, SPDX id); anything else, or any GPL/MPL term, is refused
    (r"^(mit|mit license|expat)$", "MIT"), (r"^bsd(-[23]-clause)?( license)?$", "BSD"),
    (r"^(new |simplified |3-clause |2-clause )?bsd( license)?$", "BSD"),
    (r"^apache( software)?( license)?[ ,-]*((version |v)?2(\.0)?)?( license)?$", "Apache-2.0"),
    (r"^(psf(-2\.0)?|python software foundation license)$", "PSF-2.0"), (r"^isc( license)?$", "ISC"),
    (r"^(0bsd|unlicense|cc0-1\.0|the unlicense \(unlicense\))$", "public-domain-like"),
]
REFUSED = re.compile(r"gpl|mpl|mozilla|eupl|cddl|epl|commercial|proprietary", re.I)
CLASSIFIER = "License :: OSI Approved :: "


def _spdx(name: str) -> str | None:
    name = name.strip().strip("()").lower()
    return next((spdx for pat, spdx in PERMITTED if re.match(pat, name)), None)


def licence_of(meta) -> tuple[str | None, str]:
    """(the permitted licence, or None, and what the metadata said). An SPDX expression must be
    permitted in every AND term (some OR option of each); classifiers must all be permitted."""
    expr = (meta.get("License-Expression") or "").strip()
    if expr:
        terms = [[_spdx(o) for o in re.split(r"\s+OR\s+", t)] for t in re.split(r"\s+AND\s+", expr.strip("()"))]
        ok = all(any(t) for t in terms) and not REFUSED.search(expr)
        return (expr if ok else None), expr
    classifiers = [c[len(CLASSIFIER):] for c in (meta.get_all("Classifier") or []) if c.startswith(CLASSIFIER)]
    if classifiers:
        ok = all(_spdx(c) for c in classifiers)
        return ("; ".join(classifiers) if ok else None), "; ".join(classifiers)
    raw = (meta.get("License") or "").strip().split("\n")[0][:80]
    return (raw if _spdx(raw) and not REFUSED.search(raw) else None), raw


def _check_file(path: Path) -> tuple[str | None, str, str]:
    """(why the file is dropped or None, its text, content_hash) — file_filters.py, clean_corpus.py's filters."""
    if path_reason(str(path).split("-packages/", 1)[-1].lower()):
        return "path", "", ""
    try:
        reason, text = content_reason(path.read_bytes())
    except OSError:
        return "unreadable", "", ""
    return reason, text, ("" if reason else content_hash(text))


def machine_python(seen: set[str], heldout_names: set[str], workers: int, max_files: int | None = None) -> tuple[list[dict], list[dict], dict]:
    """Documents ({"package", "path", "language", "text"}) from this interpreter's stdlib and permitted
    distributions, and the sources used. `seen` holds hashes already taken (carried and held-out
    files); a file whose text is already taken is dropped. Files are read and filtered in `workers`
    processes, in a fixed order, so the result does not depend on their number."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    groups = [("stdlib", sysconfig.get_python_version(), "PSF-2.0",
               [p for p in stdlib.rglob("*.py") if "site-packages" not in p.parts and "dist-packages" not in p.parts
                and "test" not in p.parts[len(stdlib.parts):][:1]])]
    refused = []
    for dist in sorted(md.distributions(), key=lambda d: ((d.metadata["Name"] or "").lower(), d.version)):
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        licence, said = licence_of(dist.metadata)
        if name in heldout_names or not licence:
            refused.append({"name": name, "version": dist.version, "licence": said, "why": "held out" if name in heldout_names else "licence"})
            continue
        files = sorted(Path(dist.locate_file(f)) for f in (dist.files or []) if str(f).endswith(".py"))
        groups.append((name, dist.version, licence, files))
    if max_files is not None:  # the dry run: a few files of each of the first groups
        groups = [(n, v, l, f[:max_files]) for n, v, l, f in groups]
    docs, used, drops = [], [], {}
    with Pool(workers) as pool:
        for name, version, licence, files in groups:
            texts = []
            for path, (reason, text, h) in zip(files, pool.imap(_check_file, files, chunksize=32)):
                reason = reason or ("duplicate" if h in seen else None)
                if reason:
                    drops[reason] = drops.get(reason, 0) + 1
                    continue
                seen.add(h)
                texts.append((str(path), text))
            if max_files is not None:
                texts = texts[:max(0, max_files - len(docs))]
            if not texts:
                continue
            digest = hashlib.sha256()
            for _, text in texts:
                digest.update(text.encode("utf-8"))
            used.append({"name": name, "version": version, "licence": licence, "files": len(texts),
                         "bytes": sum(len(t.encode("utf-8")) for _, t in texts), "sha256": digest.hexdigest()})
            docs.extend({"package": f"machine:{name}@{version}", "path": p, "language": "python", "text": t} for p, t in texts)
            if max_files is not None and len(docs) >= max_files:
                break
    return docs, used, {"drops": drops, "refused": refused}


_encoder = None
_special: dict[str, int] = {}


def hf_ordinary(doc: dict):
    """A Hugging Face Tokenizer that encodes as bpe.ByteLevelBpe.encode_ordinary does: without the
    added tokens, so text that spells a special token ("<|endoftext|>" in a source file) stays text,
    as prepare_data.py trains on it. Raises ImportError where `tokenizers` is missing."""
    import json
    from tokenizers import Tokenizer
    return Tokenizer.from_str(json.dumps({**doc, "added_tokens": []}))


def _init(tokenizer_path: str) -> None:
    global _encoder, _special
    import json
    doc = json.loads(Path(tokenizer_path).read_text(encoding="utf-8"))
    _special = {t["content"]: t["id"] for t in doc["added_tokens"]}
    try:
        hf = hf_ordinary(doc)
        _encoder = lambda texts: [e.ids for e in hf.encode_batch(texts, add_special_tokens=False)]
    except ImportError:
        ref = bpe.ByteLevelBpe.from_tokenizer_json(doc)
        _encoder = lambda texts: [ref.encode_ordinary(t) for t in texts]


def encode_pieces_batch(examples: list) -> list[np.ndarray]:
    """Each example (a list of fim pieces) as uint16 ids, the plain pieces encoded in one batch."""
    plain = [text for ex in examples for text, special in ex if not special and text]
    encoded = iter(_encoder(plain)) if plain else iter(())
    out = []
    for ex in examples:
        ids: list[int] = []
        for text, special in ex:
            if special:
                ids.append(_special[text])
            elif text:
                ids.extend(next(encoded))
        out.append(np.asarray(ids, dtype=np.uint16))
    return out


def _doc_examples(job: tuple) -> tuple[str, np.ndarray]:
    doc, seed, rates, chunk_chars, plain = job
    if plain:  # held-out evaluation text: the whole file, then <|endoftext|>
        examples = [[(doc["text"], False), ("<|endoftext|>", True)]]
    else:
        rng = random.Random(f"{seed}:{doc['package']}:{doc['path']}")
        examples = [make_example(c, rng, rates) for c in chunk_document(doc["text"], chunk_chars)]
    arrays = encode_pieces_batch(examples)
    return doc["language"], (np.concatenate(arrays) if arrays else np.zeros(0, np.uint16))


def tokenize_docs(docs: list[dict], tokenizer_path: Path, workers: int, seed: int, rates: FimRates, chunk_chars: int,
                  plain: bool = False) -> list[tuple[str, np.ndarray]]:
    """(language, ids) per document, in document order."""
    jobs = [(d, seed, rates, chunk_chars, plain) for d in docs]
    with Pool(workers, initializer=_init, initargs=(str(tokenizer_path),)) as pool:
        return list(pool.imap(_doc_examples, jobs, chunksize=16))


def tokenize(docs: list[dict], tokenizer_path: Path, workers: int, seed: int, rates: FimRates, chunk_chars: int,
             plain: bool = False) -> dict[str, np.ndarray]:
    """One uint16 stream per language: the documents' examples in document order."""
    parts: dict[str, list[np.ndarray]] = {}
    for lang, ids in tokenize_docs(docs, tokenizer_path, workers, seed, rates, chunk_chars, plain):
        parts.setdefault(lang, []).append(ids)
    return {lang: np.concatenate(a) for lang, a in sorted(parts.items())}
