"""The layers of DESIGN.md are a contract the machine checks (import-linter, pyproject.toml):
o2o <- catalog <- stores <- members <- orders <- feedback <- marketing <- journeys <- analytics
<- devtools."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["o2o", "catalog", "stores", "members", "orders", "feedback", "marketing", "journeys",
            "analytics", "devtools"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=where, capture_output=True,
                          text=True, env={"PYTHONPATH": str(where), "PATH": "/usr/bin:/bin"},
                          timeout=120)


def test_no_app_imports_a_layer_above_it():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_a_back_arrow_inside_a_function_fails_naming_both_modules(tmp_path):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    pricing = tmp_path / "catalog" / "pricing.py"
    pricing.write_text(pricing.read_text() + "\n\ndef planted():\n"
                       "    from orders.models import Order\n\n    return Order\n")

    result = lint_imports(tmp_path)

    assert result.returncode != 0
    assert "catalog is not allowed to import orders" in result.stdout
    assert "catalog.pricing -> orders.models" in result.stdout
