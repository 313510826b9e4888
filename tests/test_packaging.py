"""How the project is installed: the console scripts' launchers and the distribution's metadata."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _launch_without(module: str, launcher: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a console script's launcher in a fresh interpreter where ``module`` cannot be imported."""
    code = f"import sys; sys.modules[{module!r}] = None; sys.argv[1:] = {list(args)!r}; "
    code += f"from {launcher} import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("missing", "launcher", "expected"),
    [
        (
            "click",
            "tcup.__main__",
            "tcup: the runner's dependencies are not installed (no module 'click'); run: pip install tcup",
        ),
        (
            "flask",
            "webapp.__main__",
            "tcup-server: the collector service is not installed (no module 'flask'); run: pip install 'tcup[server]'",
        ),
        (
            "pandas",
            "scoring.__main__",
            "tcup-score: the scoring engine is not installed (no module 'pandas'); run: pip install 'tcup[scoring]'",
        ),
    ],
)
def test_a_missing_extra_is_one_line_naming_the_install(missing: str, launcher: str, expected: str) -> None:
    proc = _launch_without(missing, launcher, "--help")
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [expected]
    assert proc.stdout == ""


@pytest.mark.parametrize("launcher", ["tcup.__main__", "scoring.__main__", "webapp.__main__"])
def test_a_missing_module_of_our_own_is_a_bug_not_an_extra(launcher: str) -> None:
    own = launcher.split(".")[0] + ".cli"
    proc = _launch_without(own, launcher)
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "pip install" not in proc.stderr


def test_the_launchers_run_the_commands() -> None:
    for launcher, word in [
        ("tcup.__main__", "list-tests"),
        ("scoring.__main__", "tabulate"),
        ("webapp.__main__", "init-db"),
    ]:
        code = f"import sys; sys.argv[1:] = ['--help']; from {launcher} import main; main()"
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert word in proc.stdout


def test_extras_match_how_people_install() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    base = {r.split(">")[0].split("[")[0] for r in project["dependencies"]}
    assert {"click", "requests", "keystoneauth1", "python-subunit"} <= base
    assert not base & {"flask", "sqlalchemy", "pandas", "gunicorn"}, "the runner's install carries the service"
    extras = project["optional-dependencies"]
    assert {"server", "scoring", "all", "test", "dev"} <= set(extras)
    assert extras["all"] == ["tcup[server,scoring]"]
    assert extras["webapp"] == ["tcup[server]"]


def test_every_declared_py_typed_exists() -> None:
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    for package, patterns in package_data.items():
        if "py.typed" in patterns:
            assert (REPO / package / "py.typed").is_file(), f"{package} declares py.typed but has none"


def test_a_long_venv_build_step_shows_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tcup import venv_cache

    monkeypatch.setattr(venv_cache, "PROGRESS_EVERY", 0.3)
    log_file = tmp_path / "build.log"
    lines: list[str] = []
    step = [
        sys.executable,
        "-c",
        "import time\nfor i in range(4):\n print('Collecting pkg', i, flush=True); time.sleep(0.4)",
    ]
    with open(log_file, "ab") as log:
        rc = venv_cache._run_with_progress(step, log, log_file, env={}, echo=lines.append, name="demo")
    assert rc == 0
    assert lines and all(line.startswith("still building the demo virtualenv (") for line in lines)
    assert "Collecting pkg" in lines[-1]


def test_pre_commit_runs_the_checks_of_scripts_test() -> None:
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook["entry"] for repo in config["repos"] for hook in repo["hooks"]}
    assert set(hooks) == {"ruff", "ruff-format", "mypy", "import-linter"}
    assert all(entry.startswith(".venv/bin/") for entry in hooks.values())
    assert all(package in hooks["mypy"] for package in ("interop_model", "tcup", "scoring", "webapp"))
    mypy = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["mypy"]
    assert mypy["strict"] is True, "mypy is strict for every package"


def _git_modes() -> dict[str, str]:
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout (the file modes to check are git's)")
    out = subprocess.run(["git", "ls-files", "-s"], capture_output=True, text=True, cwd=REPO, check=True).stdout
    return {line.split("\t", 1)[1]: line.split()[0] for line in out.splitlines()}


def test_every_script_the_readme_names_is_executable_in_git() -> None:
    import re

    modes = _git_modes()
    readme = (REPO / "README.md").read_text()
    named = set(re.findall(r"(?<![\w/.])((?:scripts|\.ci|bench)/[\w.-]+)", readme))
    scripts = {path for path in named if (REPO / path).is_file() and (REPO / path).read_bytes().startswith(b"#!")}
    assert {"scripts/demo", "scripts/test", ".ci/run"} <= scripts
    for path in sorted(scripts):
        assert modes.get(path) == "100755", f"{path} is named in the README but is {modes.get(path)} in git"
    # a command at the start of a line in the README's code blocks exists and is executable
    for command in re.findall(r"^((?:scripts|\.ci)/[\w.-]+)", readme, flags=re.M):
        assert command in scripts, f"the README runs {command}, which is not an executable script"


def test_ci_runs_the_readme_commands_as_written() -> None:
    run = (REPO / ".ci" / "run").read_text()
    assert "\nexec scripts/test\n" in run
    assert "bash scripts/" not in run
