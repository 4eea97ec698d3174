"""Every `$ dataward ...` example in the README and docs/ runs, and prints what it shows."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```console\n(.*?)```", re.DOTALL)


def examples() -> list[tuple[str, str, list[str]]]:
    found = []
    for page in PAGES:
        for block in BLOCK.findall(page.read_text()):
            lines = block.splitlines()
            for index, line in enumerate(lines):
                if not line.startswith("$ "):
                    continue
                command = line[2:].replace(".venv/bin/dataward", "dataward")
                if not command.startswith("dataward "):
                    continue
                shown = []
                for following in lines[index + 1 :]:
                    if following.startswith("$ "):
                        break
                    if following.strip() and not following.strip().startswith("..."):
                        shown.append(following)
                found.append((page.name, command, shown))
    return found


EXAMPLES = examples()


def test_there_are_examples():
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize(("page", "command", "shown"), EXAMPLES, ids=[e[1][:60] for e in EXAMPLES])
def test_example_runs(tmp_path, page, command, shown):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "NO_COLOR": "1",
        "COLUMNS": "300",
    }
    result = subprocess.run(
        ["bash", "-c", command],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode in (0, 1), f"{page}: {command}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    output = " ".join(result.stdout.split())
    for line in shown:
        assert " ".join(line.split()) in output, f"{page}: {command} did not print {line!r}"
