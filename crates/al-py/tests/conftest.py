"""Shared fixtures: the repository's data fixtures and the al-cli binary the
Rust tests built (crates/al-py/run-tests.sh passes its path in AL_CLI)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "fixtures"


def al_cli_path() -> str:
    path = os.environ.get("AL_CLI") or shutil.which("al-cli")
    if not path:
        pytest.fail("set AL_CLI to the al-cli binary (crates/al-py/run-tests.sh does)")
    return path


def cli(*args, project=None, check=True, json_out=False, input=None):
    """Runs al-cli (``input``: its standard input); returns the completed
    process (stdout parsed with --json)."""
    command = [al_cli_path()]
    if project is not None:
        command += ["-p", str(project)]
    if json_out:
        command.append("--json")
    command += [str(a) for a in args]
    done = subprocess.run(command, capture_output=True, text=True, input=input)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed: {done.stderr}")
    if json_out and done.returncode == 0:
        done.parsed = json.loads(done.stdout)
    return done


@pytest.fixture
def price_partial():
    return FIXTURES / "price_partial.csv"


@pytest.fixture
def price_2k():
    return FIXTURES / "price_2k.csv"
