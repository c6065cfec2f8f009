"""Fetches the allow-listed source packages into .cache/corpus/raw/ and checks each one's licence.

npm: `npm pack` in a temporary directory, then a checked extraction of the tarball; the tarball's
package.json `license` must equal the allow-list's licence. debian: `apt-get download NAME=VERSION`,
then `dpkg-deb -x`; the DEP-5 `usr/share/doc/NAME/copyright` must name the allow-listed licence, and
shipped files whose DEP-5 stanza names a licence outside `permittedLicences` are listed in the
package's marker so that clean_corpus.py leaves them out. A package that cannot be fetched or fails
the check is reported (stderr and .cache/corpus/fetch-report.json) and left out.

A package is complete once its marker `.flashcode-fetch.json` exists; reruns skip it.

    /usr/bin/python3 models/pipeline/fetch_corpus.py [--only NAME ...]
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from allowlist import ALLOWLIST, CORPUS, MARKER, load_allowlist, package_id, raw_dir


# Debian short names (lower-cased) → SPDX ids. Unknown names are resolved from their stand-alone
# licence paragraph by LICENCE_FINGERPRINTS, or stay as written (and so are not permitted).
DEBIAN_LICENCE_NAMES = {
    "expat": "MIT", "mit": "MIT", "isc": "ISC", "0bsd": "0BSD", "cc0-1.0": "CC0-1.0", "cc0": "CC0-1.0",
    "bsd-2-clause": "BSD-2-Clause", "bsd-2": "BSD-2-Clause", "bsd-3-clause": "BSD-3-Clause", "bsd-3": "BSD-3-Clause",
    "apache-2.0": "Apache-2.0", "apache-2": "Apache-2.0", "psf-2": "PSF-2.0", "psf-2.0": "PSF-2.0",
    "public-domain": "public-domain", "unlicense": "Unlicense",
}
LICENCE_FINGERPRINTS = [
    ("Apache License, Version 2.0", "Apache-2.0"),
    ("Permission is hereby granted, free of charge", "MIT"),
    ("PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2", "PSF-2.0"),
]
SOURCE_SUFFIXES = (".py", ".ts", ".tsx", ".mts", ".cts", ".js", ".mjs", ".cjs", ".jsx", ".go")


class FetchError(Exception):
    """A package could not be fetched or extracted."""


class LicenceError(Exception):
    """A package's licence does not match the allow-list or is not permitted."""


# --- npm ---------------------------------------------------------------------------------------

def safe_extract_tgz(tgz: Path, dest: Path) -> None:
    """Extracts regular files and directories only, dropping the tarball's top folder (`package/`);
    refuses absolute paths and `..`."""
    with tarfile.open(tgz, "r:gz") as tar:
        for member in tar:
            parts = PurePosixPath(member.name).parts
            if member.name.startswith("/") or ".." in parts:
                raise FetchError(f"{tgz.name}: unsafe path in tarball: {member.name!r}")
            if len(parts) < 2 or not (member.isfile() or member.isdir()):
                continue  # the top folder itself, links, devices
            target = dest.joinpath(*parts[1:])
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            with open(target, "wb") as out:
                shutil.copyfileobj(source, out)


def check_npm_licence(package_json: dict, pkg: dict) -> dict:
    found = package_json.get("license")
    if (package_json.get("name"), package_json.get("version")) != (pkg["name"], pkg["version"]):
        raise LicenceError(f"tarball is {package_json.get('name')}@{package_json.get('version')}, "
                           f"not {pkg['name']}@{pkg['version']}")
    if found != pkg["licence"]:
        raise LicenceError(f"package.json license is {found!r}, allow-list says {pkg['licence']!r}")
    return {"found": [found], "excludedFiles": {}}


def fetch_npm(pkg: dict, work: Path, dest: Path) -> dict:
    spec = f"{pkg['name']}@{pkg['version']}"
    run = subprocess.run(["npm", "pack", "--silent", spec], cwd=work, capture_output=True, text=True)
    tarballs = sorted(work.glob("*.tgz"))
    if run.returncode != 0 or len(tarballs) != 1:
        raise FetchError(f"npm pack {spec} failed (exit {run.returncode}): {run.stderr.strip()[-300:] or 'no tarball'}")
    safe_extract_tgz(tarballs[0], dest)
    package_json = json.loads((dest / "package.json").read_text(encoding="utf-8"))
    return check_npm_licence(package_json, pkg)


# --- debian ------------------------------------------------------------------------------------

def parse_dep5(text: str) -> list[dict]:
    """Paragraphs of a DEP-5 copyright file as dicts of field → value (continuation lines joined)."""
    paragraphs, current, field = [], {}, None
    for line in text.splitlines():
        if not line.strip():
            if current:
                paragraphs.append(current)
            current, field = {}, None
        elif line[0] in " \t":
            if field:
                current[field] += "\n" + line.strip()
        elif ":" in line:
            field, value = line.split(":", 1)
            current[field] = value.strip()
    if current:
        paragraphs.append(current)
    return paragraphs


def is_dep5(text: str) -> bool:
    return text.startswith("Format:") and "copyright-format" in text.splitlines()[0]


def licence_names(expression: str) -> list[list[str]]:
    """`A and (B or C)` → [[A], [B, C]]: every group must hold, any name within a group suffices."""
    first_line = expression.splitlines()[0] if expression else ""
    cleaned = first_line.replace("(", " ").replace(")", " ").replace(",", " and ")
    groups = [[name.strip() for name in group.split(" or ") if name.strip()] for group in cleaned.split(" and ")]
    return [group for group in groups if group]


def dep5_licence_check(text: str, shipped: list[str], allowed_licence: str, permitted: set[str]) -> dict:
    """Checks a DEP-5 copyright file against the files a binary package ships (paths relative to its
    root). Stanzas for `debian/*` (packaging, not shipped) are ignored. Each shipped source file
    takes the licence of the last stanza whose pattern matches it (patterns are source-tree paths,
    so they are matched as path suffixes); files whose licence is not permitted are returned in
    `excludedFiles`. Raises LicenceError if the allow-listed licence is not among the licences of
    the stanzas, or if every shipped source file is excluded."""
    paragraphs = parse_dep5(text)
    standalone = {p["License"].splitlines()[0].strip(): p["License"] for p in paragraphs
                  if "License" in p and "Files" not in p and "Format" not in p}

    def spdx(name: str) -> str:
        if name.lower() in DEBIAN_LICENCE_NAMES:
            return DEBIAN_LICENCE_NAMES[name.lower()]
        body = standalone.get(name, "")
        return next((spdx_id for mark, spdx_id in LICENCE_FINGERPRINTS if mark in body), name)

    stanzas = []
    for p in paragraphs:
        if "Files" not in p or "License" not in p:
            continue
        patterns = p["Files"].split()
        if all(pattern.startswith("debian/") for pattern in patterns):
            continue
        groups = [[spdx(name) for name in group] for group in licence_names(p["License"])]
        ok = bool(groups) and all(any(name in permitted for name in group) for group in groups)
        stanzas.append((patterns, groups, ok))
    found = sorted({name for _, groups, _ in stanzas for group in groups for name in group})
    if allowed_licence not in found:
        raise LicenceError(f"copyright names {found}, not the allow-listed {allowed_licence}")

    excluded = {}
    sources = [f for f in shipped if f.endswith(SOURCE_SUFFIXES)]
    for path in sources:
        match = None
        for patterns, groups, ok in stanzas:
            if any(fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, "*/" + pattern) for pattern in patterns):
                match = (groups, ok)
        if match is not None and not match[1]:
            excluded[path] = " and ".join(" or ".join(group) for group in match[0])
    if sources and len(excluded) == len(sources):
        raise LicenceError("every shipped source file is under a licence that is not permitted")
    return {"found": found, "excludedFiles": excluded}


def phrase_licence_check(text: str, pkg: dict) -> dict:
    """Copyright files that are not DEP-5 cannot be parsed: the allow-list names a phrase of the
    licence text that must appear verbatim."""
    phrase = pkg.get("copyrightPhrase")
    if not phrase:
        raise LicenceError("copyright file is not DEP-5 and the allow-list gives no copyrightPhrase")
    if phrase not in text:
        raise LicenceError(f"copyright file is not DEP-5 and lacks the phrase {phrase!r}")
    return {"found": [pkg["licence"]], "nonDep5Phrase": phrase, "excludedFiles": {}}


def apt_download(name: str, version: str, work: Path) -> Path:
    run = subprocess.run(["apt-get", "download", "-q", f"{name}={version}"], cwd=work, capture_output=True, text=True)
    debs = sorted(work.glob(f"{name}_*.deb"))
    if run.returncode != 0 or len(debs) != 1:
        raise FetchError(f"apt-get download {name}={version} failed: {run.stderr.strip()[-300:] or 'no .deb'}")
    return debs[0]


def copyright_text(pkg: dict, root: Path, work: Path) -> str:
    """usr/share/doc/NAME/copyright; where that folder is a link to another package's (as
    libpython3.11-stdlib → libpython3.11-minimal), that package at the same version is fetched
    to read it."""
    doc = root / "usr" / "share" / "doc" / pkg["name"]
    if doc.is_symlink():
        other = Path(doc.readlink()).name
        other_root = work / "copyright-of"
        other_root.mkdir(exist_ok=True)
        deb = apt_download(other, pkg["version"], other_root)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(other_root / "x")], check=True)
        doc = other_root / "x" / "usr" / "share" / "doc" / other
    path = doc / "copyright"
    if not path.is_file():
        raise LicenceError(f"no copyright file at usr/share/doc/{pkg['name']}/copyright")
    return path.read_text(encoding="utf-8", errors="replace")


def fetch_debian(pkg: dict, work: Path, dest: Path, permitted: set[str]) -> dict:
    deb = apt_download(pkg["name"], pkg["version"], work)
    run = subprocess.run(["dpkg-deb", "-x", str(deb), str(dest)], capture_output=True, text=True)
    if run.returncode != 0:
        raise FetchError(f"dpkg-deb -x {deb.name} failed: {run.stderr.strip()[-300:]}")
    text = copyright_text(pkg, dest, work)
    if not is_dep5(text):
        return phrase_licence_check(text, pkg)
    shipped = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file() and not p.is_symlink())
    return dep5_licence_check(text, shipped, pkg["licence"], permitted)


# --- driver ------------------------------------------------------------------------------------

def fetch_one(pkg: dict, permitted: set[str], corpus: Path) -> dict:
    dest = raw_dir(pkg, corpus)
    marker = dest / MARKER
    if marker.is_file():
        return {**json.loads(marker.read_text(encoding="utf-8")), "status": "cached"}
    if pkg["licence"] not in permitted:
        raise LicenceError(f"allow-listed licence {pkg['licence']} is not in permittedLicences")
    partial = dest.with_name(dest.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        with tempfile.TemporaryDirectory(prefix="flashcode-fetch-") as tmp:
            if pkg["source"] == "npm":
                check = fetch_npm(pkg, Path(tmp), partial)
            elif pkg["source"] == "debian":
                check = fetch_debian(pkg, Path(tmp), partial, permitted)
            else:
                raise FetchError(f"unknown source {pkg['source']!r}")
        record = {"package": package_id(pkg), "licence": pkg["licence"], **check}
        (partial / MARKER).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        shutil.rmtree(dest, ignore_errors=True)
        partial.rename(dest)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return {**record, "status": "fetched"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--allowlist", type=Path, default=ALLOWLIST)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--only", nargs="*", help="package names to fetch (default: all)")
    args = parser.parse_args(argv)
    allow = load_allowlist(args.allowlist)
    permitted = set(allow["permittedLicences"])
    report, failed = [], 0
    for pkg in allow["packages"]:
        if args.only and pkg["name"] not in args.only:
            continue
        try:
            entry = fetch_one(pkg, permitted, args.corpus)
        except (FetchError, LicenceError, subprocess.CalledProcessError, OSError, ValueError) as err:
            failed += 1
            kind = "licence" if isinstance(err, LicenceError) else "fetch"
            entry = {"package": package_id(pkg), "status": f"left out ({kind})", "reason": str(err)}
            print(f"left out {package_id(pkg)}: {kind}: {err}", file=sys.stderr)
        else:
            excluded = len(entry.get("excludedFiles", {}))
            note = f" ({excluded} files under other licences left out)" if excluded else ""
            print(f"{entry['status']} {entry['package']}{note}", file=sys.stderr)
        report.append(entry)
    args.corpus.mkdir(parents=True, exist_ok=True)
    (args.corpus / "fetch-report.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(report) - failed} packages ready, {failed} left out; report: {args.corpus / 'fetch-report.json'}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
