"""The pipeline's layout: stage scripts import library modules only, never another stage, so a stage can
change its command line or its internals without breaking the stages after it; README.md lists each
stage in run order and each library module."""
from __future__ import annotations

import ast
import re
import unittest
from pathlib import Path

PIPELINE = Path(__file__).resolve().parents[1]

# Library modules: imported by stages and tests, never run as a step of the pipeline (reference.py and
# reference_v2.py also have a command line, for looking at one model by hand). Every other top-level
# .py file is a stage.
LIBRARY = {
    "allowlist", "bpe", "checkpoint", "corpus", "corpus_jsonl", "export_check", "export_v1", "file_filters", "fim",
    "fixture_common", "flashcode_format", "flashcode_format_v2", "golden_q4", "golden_q8", "gpu_data", "gpu_eval",
    "graphs", "heldout_eval", "jsonfmt", "lm", "manifest_v1", "paths", "reference", "reference_v2",
}


def modules() -> dict[str, Path]:
    return {p.stem: p for p in sorted(PIPELINE.glob("*.py"))}


def local_imports(path: Path, local: set[str]) -> set[str]:
    """The pipeline modules a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & local


def has_main(path: Path) -> bool:
    return re.search(r'^if __name__ == "__main__":', path.read_text(encoding="utf-8"), re.MULTILINE) is not None


class LayoutTest(unittest.TestCase):
    def setUp(self) -> None:
        self.modules = modules()
        self.stages = sorted(set(self.modules) - LIBRARY)

    def test_library_modules_exist(self) -> None:
        self.assertEqual(sorted(LIBRARY - set(self.modules)), [], "listed in LIBRARY but not in models/pipeline/")

    def test_every_stage_is_a_script(self) -> None:
        # A new module without a command line is a library module: add it to LIBRARY (and README.md).
        not_scripts = [s for s in self.stages if not has_main(self.modules[s])]
        self.assertEqual(not_scripts, [], "stage files without `if __name__ == \"__main__\":`")

    def test_stages_import_only_library_modules(self) -> None:
        local = set(self.modules)
        wrong = {s: sorted(local_imports(self.modules[s], local) - LIBRARY) for s in self.stages}
        wrong = {s: found for s, found in wrong.items() if found}
        self.assertEqual(wrong, {}, "stage scripts importing other stage scripts: move what they share into a "
                                    "library module")

    def test_library_modules_import_no_stage(self) -> None:
        local = set(self.modules)
        wrong = {m: sorted(local_imports(self.modules[m], local) - LIBRARY) for m in sorted(LIBRARY & local)}
        wrong = {m: found for m, found in wrong.items() if found}
        self.assertEqual(wrong, {}, "library modules importing stage scripts")

    def test_readme_lists_each_stage_and_library_module(self) -> None:
        readme = (PIPELINE / "README.md").read_text(encoding="utf-8")
        missing = [f"{m}.py" for m in sorted(self.modules) if f"`{m}.py`" not in readme]
        self.assertEqual(missing, [], "models/pipeline/README.md does not name these files")


if __name__ == "__main__":
    unittest.main()
