#!/usr/bin/env bash
# The Python packages the importer's tests compare against (PyPI `gguf`'s reference dequantizers,
# `safetensors` for the fixtures), in a venv under .cache/ (never the system Python).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.cache/import-venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import gguf, safetensors, numpy' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check gguf==0.19.0 safetensors==0.8.0 numpy==2.4.6
fi
echo "$VENV/bin/python"
