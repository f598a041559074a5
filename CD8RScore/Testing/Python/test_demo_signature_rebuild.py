"""The demonstration signature has an honest, reproducible origin: rebuilding it from its simulated radiogenomic
training set with the signature tools gives the committed file byte for byte."""
from __future__ import annotations

import json
from importlib.metadata import version

from CD8RScoreLib.demo_signature import main
from CD8RScoreLib.signature import default_signature_path


def test_rebuilt_demonstration_signature_is_byte_identical(tmp_path):
    out = tmp_path / "rebuilt.json"
    assert main(["--out", str(out)]) == 0
    committed = default_signature_path().read_bytes()
    # numpy is not pinned: its version is recorded in the provenance, and the numbers must not move with it
    recorded = json.loads(committed)["provenance"]["package_versions"]["numpy"]
    expected = committed.replace(f'"numpy": "{recorded}"'.encode(), f'"numpy": "{version("numpy")}"'.encode())
    assert out.read_bytes() == expected, "rebuild with `python -m CD8RScoreLib.demo_signature` and commit"
    document = json.loads(committed)
    assert document["status"] == "demonstration"
    assert "NOT the published CD8-Rscore" in document["provenance"]["source"]
    assert document["provenance"]["training_set"].startswith("SIMULATED")
    assert document["training"]["n_lesions"] == 160

