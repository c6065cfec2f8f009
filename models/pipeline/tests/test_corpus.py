"""Training corpus: allow-list schema, licence checks, file filters, exact and near deduplication."""
from __future__ import annotations

import io
import json
import random
import re
import tarfile
import tempfile
import unittest
from pathlib import Path

import clean_corpus as cc
import fetch_corpus as fc

LANGUAGES = {"typescript", "javascript", "python"}


def code(seed: int, lines: int = 60) -> str:
    """Plausible Python-looking source, different for each seed."""
    rng = random.Random(seed)
    words = ["value", "index", "result", "count", "items", "name", "total", "node", "parent", "child", "key", "size"]
    out = []
    for i in range(lines):
        a, b, c = rng.choice(words), rng.choice(words), rng.choice(words)
        out.append(f"    {a}_{rng.randrange(1000)} = {b}_{rng.randrange(1000)} + compute_{c}({i}, {rng.randrange(99)})")
    return "def f():\n" + "\n".join(out) + "\n"


class AllowListTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.allow = fc.load_allowlist()

    def test_every_package_is_pinned_and_permitted(self):
        permitted = set(self.allow["permittedLicences"])
        for pkg in self.allow["packages"]:
            with self.subTest(fc.package_id(pkg)):
                self.assertIn(pkg["source"], {"npm", "debian"})
                self.assertIn(pkg["licence"], permitted)
                self.assertIn(pkg["split"], {"train", "heldout"})
                self.assertTrue(pkg["languages"] and set(pkg["languages"]) <= LANGUAGES | {"go"})
                if pkg["source"] == "npm":
                    self.assertRegex(pkg["version"], r"^\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$")
                else:
                    self.assertRegex(pkg["version"], r"^(\d+:)?\d[0-9A-Za-z.+~-]*$")

    def test_packages_are_unique(self):
        names = [(p["source"], p["name"]) for p in self.allow["packages"]]
        self.assertEqual(len(names), len(set(names)))

    def test_every_language_has_a_heldout_package(self):
        heldout = {lang for p in self.allow["packages"] if p["split"] == "heldout" for lang in p["languages"]}
        self.assertLessEqual(LANGUAGES, heldout)


DEP5 = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: demo

Files: *
Copyright: 2020 Someone
License: Expat

Files: demo/gpl_helper.py
Copyright: 2019 Someone Else
License: GPL-3+

Files: docs/theme.py
Copyright: 2018 A Designer
License: CC-BY-SA-4

Files: demo/vendored.py
Copyright: 2017 Apache Folks
License: Apache

Files: debian/*
Copyright: 2021 A Maintainer
License: GPL-2+

License: Expat
 Permission is hereby granted, free of charge, to any person obtaining a copy

License: Apache
 Licensed under the Apache License, Version 2.0 (the "License");
"""
SHIPPED = ["usr/lib/python3/dist-packages/demo/__init__.py",
           "usr/lib/python3/dist-packages/demo/gpl_helper.py",
           "usr/lib/python3/dist-packages/demo/vendored.py",
           "usr/share/doc/python3-demo/copyright"]
PERMITTED = {"MIT", "BSD-3-Clause", "Apache-2.0"}


class LicenceCheckTest(unittest.TestCase):
    def test_dep5_paragraphs_and_continuations(self):
        paragraphs = fc.parse_dep5(DEP5)
        self.assertEqual(paragraphs[0]["Upstream-Name"], "demo")
        self.assertEqual(paragraphs[1], {"Files": "*", "Copyright": "2020 Someone", "License": "Expat"})
        self.assertTrue(paragraphs[-1]["License"].startswith("Apache\nLicensed under"))
        self.assertTrue(fc.is_dep5(DEP5))
        self.assertFalse(fc.is_dep5("This package was debianized by someone.\n"))

    def test_dep5_check_excludes_shipped_files_under_other_licences(self):
        result = fc.dep5_licence_check(DEP5, SHIPPED, "MIT", PERMITTED)
        # GPL for debian/* is packaging; CC-BY-SA for docs/ is not shipped; "Apache" resolves by its text.
        self.assertEqual(result["excludedFiles"], {"usr/lib/python3/dist-packages/demo/gpl_helper.py": "GPL-3+"})
        self.assertEqual(result["found"], ["Apache-2.0", "CC-BY-SA-4", "GPL-3+", "MIT"])

    def test_dep5_check_rejects_a_licence_that_is_not_named(self):
        with self.assertRaises(fc.LicenceError):
            fc.dep5_licence_check(DEP5, SHIPPED, "BSD-3-Clause", PERMITTED)

    def test_dep5_check_rejects_when_everything_is_excluded(self):
        text = DEP5.replace("Files: *\nCopyright: 2020 Someone\nLicense: Expat", "Files: *\nCopyright: x\nLicense: GPL-2+")
        with self.assertRaises(fc.LicenceError):
            fc.dep5_licence_check(text.replace("Files: demo/vendored.py", "Files: nothing.py"),
                                  SHIPPED, "Apache-2.0", PERMITTED)

    def test_dep5_and_or_expressions(self):
        self.assertEqual(fc.licence_names("BSD-3-clause and (Expat or GPL-2+)"), [["BSD-3-clause"], ["Expat", "GPL-2+"]])
        text = "Format: https://x/copyright-format/1.0/\n\nFiles: *\nCopyright: x\nLicense: Expat or GPL-2+\n"
        self.assertEqual(fc.dep5_licence_check(text, ["a.py"], "MIT", PERMITTED)["excludedFiles"], {})
        text = text.replace(" or ", " and ")
        with self.assertRaises(fc.LicenceError):
            fc.dep5_licence_check(text, ["a.py"], "MIT", PERMITTED)

    def test_npm_licence_must_equal_the_allow_list(self):
        pkg = {"name": "left-pad", "version": "1.3.0", "licence": "MIT"}
        self.assertEqual(fc.check_npm_licence({"name": "left-pad", "version": "1.3.0", "license": "MIT"}, pkg)["found"], ["MIT"])
        for bad in ({"name": "left-pad", "version": "1.3.0", "license": "WTFPL"},
                    {"name": "left-pad", "version": "1.3.0", "license": "(MIT OR GPL-3.0)"},
                    {"name": "left-pad", "version": "1.3.0"},
                    {"name": "left-pad", "version": "1.2.0", "license": "MIT"}):
            with self.subTest(bad), self.assertRaises(fc.LicenceError):
                fc.check_npm_licence(bad, pkg)

    def test_non_dep5_copyright_needs_the_allow_listed_phrase(self):
        pkg = {"licence": "PSF-2.0", "copyrightPhrase": "PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2"}
        self.assertEqual(fc.phrase_licence_check("... PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2 ...", pkg)["found"], ["PSF-2.0"])
        with self.assertRaises(fc.LicenceError):
            fc.phrase_licence_check("GNU GENERAL PUBLIC LICENSE", pkg)
        with self.assertRaises(fc.LicenceError):
            fc.phrase_licence_check("anything", {"licence": "MIT"})


def tarball(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class SafeExtractTest(unittest.TestCase):
    def test_strips_the_top_folder(self):
        with tempfile.TemporaryDirectory() as tmp:
            tgz = Path(tmp) / "p.tgz"
            tgz.write_bytes(tarball({"package/package.json": b"{}", "package/src/a.ts": b"x"}))
            fc.safe_extract_tgz(tgz, Path(tmp) / "out")
            self.assertEqual((Path(tmp) / "out" / "src" / "a.ts").read_bytes(), b"x")

    def test_refuses_paths_outside_the_destination(self):
        with tempfile.TemporaryDirectory() as tmp:
            tgz = Path(tmp) / "p.tgz"
            tgz.write_bytes(tarball({"package/../../evil.js": b"x"}))
            with self.assertRaises(fc.FetchError):
                fc.safe_extract_tgz(tgz, Path(tmp) / "out")
            self.assertFalse((Path(tmp).parent / "evil.js").exists())


class FileFilterTest(unittest.TestCase):
    def test_languages_by_extension(self):
        cases = {"src/a.ts": "typescript", "src/a.tsx": "typescript", "src/a.mts": "typescript", "src/a.d.ts": None,
                 "src/a.d.mts": None, "lib/a.js": "javascript", "lib/a.cjs": "javascript", "a.jsx": "javascript",
                 "x/y.py": "python", "README.md": None, "Makefile": None}
        for path, language in cases.items():
            with self.subTest(path):
                self.assertEqual(cc.language_of(path), language)

    def test_path_reasons(self):
        cases = {"node_modules/x/index.js": "vendored", "setuptools/_vendor/packaging/version.py": "vendored",
                 "dist/index.js": "bundled", "umd/lib.js": "bundled", "lib/x.min.js": "bundled",
                 "out/app.bundle.js": "bundled", "dist-es/a.js": "bundled", "test/fixtures/a.js": "fixture",
                 "src/generated/channelz.ts": "generated", "src/index.ts": None,
                 "usr/lib/python3/dist-packages/flask/app.py": None}
        for path, reason in cases.items():
            with self.subTest(path):
                self.assertEqual(cc.path_reason(path), reason)

    def test_size_limits(self):
        self.assertEqual(cc.content_reason(b"x = 1\n" * 10)[0], "too small")
        self.assertEqual(cc.content_reason(code(1, 5000).encode())[0], "too large")
        self.assertIsNone(cc.content_reason(code(1).encode())[0])

    def test_minified(self):
        minified = ("var a=function(b){return b+1};" * 40).encode()
        self.assertEqual(cc.content_reason(minified)[0], "minified")  # one line over 1000 characters
        wide = ("x" * 150 + "\n") * 10
        self.assertEqual(cc.content_reason(wide.encode())[0], "minified")  # average line over 100

    def test_generated_header(self):
        body = code(2)
        for header in ("// Code generated by protoc-gen-ts. DO NOT EDIT.\n", "# This file is auto-generated\n",
                       " * This file was automatically generated by json-schema-to-typescript.\n",
                       "# this module was autogenerated.\n", "// This is generated code.\n",
                       "/* @generated */\n", '"""Autogenerated by gen.py."""\n'):
            with self.subTest(header):
                self.assertEqual(cc.content_reason((header + body).encode())[0], "generated")
        for prose in ("/** Apply the headers generated by a FormData implementation. */\n" + body,
                      '"""AST nodes generated by the parser."""\n' + body,
                      body + "# This file is auto-generated\n"):  # far from the top: not a header
            with self.subTest(prose[:30]):
                self.assertIsNone(cc.content_reason(prose.encode())[0])

    def test_encoding_and_line_endings(self):
        self.assertEqual(cc.content_reason(b"\xff\xfe" + code(3).encode())[0], "not utf-8")
        reason, text = cc.content_reason(code(3).replace("\n", "\r\n").encode())
        self.assertIsNone(reason)
        self.assertEqual(text, code(3))

    def test_data_tables(self):
        table = "TABLE = [\n" + "".join(f"    ({i}, {i * 7 % 256}, 0x{i:04x}),\n" for i in range(200)) + "]\n"
        self.assertEqual(cc.content_reason(table.encode())[0], "data")


class MinHashTest(unittest.TestCase):
    def test_signature_agreement_tracks_similarity(self):
        hasher = cc.MinHasher()
        base = code(10, 200)
        edited = base.replace("\n    ", "\n    edited = 1\n    ", 1)
        self.assertNotEqual(edited, base)
        same = hasher.signature(base)
        self.assertTrue((same == hasher.signature(base)).all())
        self.assertGreater(float((same == hasher.signature(edited)).mean()), 0.9)
        self.assertLess(float((same == hasher.signature(code(11, 200))).mean()), 0.3)

    def test_tiny_texts_have_a_signature(self):
        self.assertEqual(cc.MinHasher().signature("a b").shape, (cc.NUM_PERM,))


class CleanTest(unittest.TestCase):
    """clean() over a synthetic raw corpus of three fetched packages."""

    def make_corpus(self, root: Path, files: dict[tuple[str, str], dict[str, str]], excluded=None) -> dict:
        packages = []
        for (name, split), tree in files.items():
            pkg = {"source": "npm", "name": name, "version": "1.0.0", "licence": "MIT",
                   "languages": ["python", "typescript"], "split": split}
            base = fc.raw_dir(pkg, root)
            for path, text in tree.items():
                (base / path).parent.mkdir(parents=True, exist_ok=True)
                (base / path).write_text(text, encoding="utf-8")
            marker = {"excludedFiles": (excluded or {}).get(name, {})}
            (base / fc.MARKER).write_text(json.dumps(marker), encoding="utf-8")
            packages.append(pkg)
        return {"permittedLicences": ["MIT"], "packages": packages}

    def run_clean(self, allow, root):
        return cc.clean(allow, root, log=lambda *a, **k: None)

    def test_exact_and_near_duplicates_of_heldout_are_dropped_from_train(self):
        lines = code(21, 200).split("\n")
        lines[100] = "    edited = 1"
        near = "\n".join(lines)
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            allow = self.make_corpus(root, {
                ("held", "heldout"): {"a.py": code(20, 200), "b.py": code(21, 200)},
                ("train", "train"): {"copy.py": code(20, 200).replace("\n", "\r\n"), "near.py": near,
                                     "own.py": code(22, 200), "types.d.ts": code(23), "dist/x.py": code(24)},
            })
            kept, stats = self.run_clean(allow, root)
        self.assertEqual([d.path for d in kept["heldout"]], ["a.py", "b.py"])
        self.assertEqual([d.path for d in kept["train"]], ["own.py"])
        self.assertEqual(stats["duplicates"], {"exact": 1, "near": 1, "trainDroppedAsDupOfHeldout": 2})
        self.assertEqual(stats["dropped"], {"bundled": 1})
        self.assertEqual(stats["splits"]["train"]["python"]["files"], 1)

    def test_within_split_the_later_duplicate_is_dropped(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            allow = self.make_corpus(root, {("a", "train"): {"x.py": code(30, 100)}, ("b", "train"): {"y.py": code(30, 100)},
                                            ("h", "heldout"): {"z.py": code(31, 100)}})
            kept, _ = self.run_clean(allow, root)
        self.assertEqual([(d.package, d.path) for d in kept["train"]], [("npm:a@1.0.0", "x.py")])

    def test_licence_excluded_files_are_left_out(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            allow = self.make_corpus(root, {("a", "train"): {"x.py": code(40), "gpl.py": code(41)},
                                            ("h", "heldout"): {"z.py": code(42)}},
                                     excluded={"a": {"gpl.py": "GPL-3+"}})
            kept, stats = self.run_clean(allow, root)
        self.assertEqual([d.path for d in kept["train"]], ["x.py"])
        self.assertEqual(stats["dropped"], {"licence": 1})

    def test_output_is_deterministic_and_sorted(self):
        outputs = []
        for _ in range(2):
            with tempfile.TemporaryDirectory() as tmp:
                root = Path(tmp)
                allow = self.make_corpus(root, {("b", "train"): {"z.py": code(50), "a/y.ts": code(51)},
                                                ("a", "train"): {"q.py": code(52)}, ("h", "heldout"): {"h.py": code(53)}})
                kept, stats = self.run_clean(allow, root)
                cc.write_jsonl(root / "train.jsonl", kept["train"])
                outputs.append(((root / "train.jsonl").read_bytes(), json.dumps(stats)))
        self.assertEqual(outputs[0], outputs[1])
        rows = [json.loads(line) for line in outputs[0][0].decode().splitlines()]
        self.assertEqual([(r["package"], r["path"], r["language"]) for r in rows],
                         [("npm:a@1.0.0", "q.py", "python"), ("npm:b@1.0.0", "a/y.ts", "typescript"),
                          ("npm:b@1.0.0", "z.py", "python")])
        self.assertEqual(list(rows[0]), ["package", "path", "language", "text"])

    def test_unfetched_packages_are_reported(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            allow = self.make_corpus(root, {("a", "train"): {"x.py": code(60)}})
            allow["packages"].append({"source": "debian", "name": "python3-gone", "version": "1.0-1", "licence": "MIT",
                                      "languages": ["python"], "split": "heldout"})
            _, stats = self.run_clean(allow, root)
        self.assertEqual(stats["missingPackages"], ["debian:python3-gone@1.0-1"])


if __name__ == "__main__":
    unittest.main()
