"""The GitHub workflows: audited by zizmor, pinned, least privilege, and matching what users get."""

import re
import shutil
import subprocess

import yaml

from tests.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
USES = re.compile(r"^\s*-?\s*uses:\s*(\S+)(.*)$", re.M)


def load(name):
    return yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))


def test_zizmor_finds_nothing_even_pedantic():
    zizmor = shutil.which("zizmor") or str(ROOT / ".venv" / "bin" / "zizmor")
    proc = subprocess.run([zizmor, "--offline", "--persona", "pedantic", str(WORKFLOWS)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actions_are_pinned_by_commit_with_the_tag_as_a_comment():
    for path in FILES:
        for ref, rest in USES.findall(path.read_text(encoding="utf-8")):
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{path.name}: {ref} is not pinned by SHA"
            assert re.search(r"#\s*v\d+(\.\d+)*", rest), f"{path.name}: {ref} lacks its tag as a comment"


def test_no_action_runs_on_the_removed_node20_runtime():
    # The majors that moved to node24; older ones of these still run on node20.
    minimum = {"actions/checkout": 5, "actions/cache": 5, "actions/configure-pages": 6,
               "actions/deploy-pages": 5, "actions/upload-artifact": 6, "actions/download-artifact": 7,
               "actions/upload-pages-artifact": 5, "peter-evans/create-issue-from-file": 6}
    for path in FILES:
        for ref, rest in USES.findall(path.read_text(encoding="utf-8")):
            action, major = ref.split("@")[0], int(re.search(r"v(\d+)", rest)[1])
            assert major >= minimum.get(action, 0), f"{path.name}: {action} v{major} runs on node20"


def test_containers_are_pinned_by_digest_and_checkouts_keep_no_credentials():
    for path in FILES:
        for name, job in load(path.name)["jobs"].items():
            if "container" in job:
                assert re.search(r"@sha256:[0-9a-f]{64}$", job["container"]), f"{path.name}: {name}"
            for step in job.get("steps", []):
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step.get("with", {}).get("persist-credentials") is False, f"{path.name}: {name}"


# Every job's token, exactly: a new job, or a new grant to an old one, is a decision made here too.
PERMISSIONS = {
    ("ci.yml", "test"): {"contents": "read", "pages": "read"},
    ("ci.yml", "deploy"): {"pages": "write", "id-token": "write"},
    ("links.yml", "check"): {"contents": "read", "actions": "read"},
    ("links.yml", "report"): {"issues": "write"},
}


def test_permissions_are_granted_per_job_and_only_where_needed():
    """No workflow grants anything to all its jobs (a missing `permissions:` means the repository's default
    token); each job gets exactly what PERMISSIONS lists."""
    granted = {}
    for path in sorted(WORKFLOWS.glob("*.y*ml")):
        workflow = load(path.name)
        assert workflow.get("permissions") == {}, f"{path.name}: set `permissions: {{}}` and grant per job"
        for name, job in workflow["jobs"].items():
            granted[(path.name, name)] = job.get("permissions")
    assert granted == PERMISSIONS


def test_deployment_needs_the_tests_of_the_same_commit():
    jobs = load("ci.yml")["jobs"]
    assert jobs["deploy"]["needs"] == "test"
    test_steps = [s.get("run", "") + s.get("uses", "") for s in jobs["test"]["steps"]]
    assert test_steps.index("bash .ci/run") < test_steps.index("make build"), "tests run before the build"
    assert not (WORKFLOWS / "deploy.yml").exists()


def test_runners_install_the_cpu_build_of_torch_and_requirements_stay_plain():
    ci = load("ci.yml")
    assert ci["env"]["PIP_EXTRA_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert "download.pytorch.org" not in requirements and "torch==2.13.0" in requirements


def test_notebook_cache_key_comes_from_the_runner():
    """The executed-notebooks cache is keyed by an earlier step that runs the runner's own --cache-key
    (which hashes everything a run depends on), not by hashFiles over some of the inputs."""
    steps = load("ci.yml")["jobs"]["test"]["steps"]
    [cache] = [s for s in steps if s.get("with", {}).get("path") == "~/.cache/llm-roadmap/executed"]
    assert cache["uses"].startswith("actions/cache@")
    key = re.fullmatch(r"executed-\$\{\{ steps\.([\w-]+)\.outputs\.key \}\}", cache["with"]["key"])
    assert key, cache["with"]["key"]
    [step] = [s for s in steps if s.get("id") == key[1]]
    assert steps.index(step) < steps.index(cache)
    assert step["run"] == 'echo "key=$(.venv/bin/python -m tools.notebook_runner --cache-key)" >> "$GITHUB_OUTPUT"'


def test_a_weekly_run_executes_every_notebook_without_the_cache():
    ci = load("ci.yml")
    triggers = ci[True] if True in ci else ci["on"]  # YAML 1.1 reads the key `on` as true
    assert triggers["schedule"] and triggers["push"] == {"branches": ["main"]}
    cache = [s for s in ci["jobs"]["test"]["steps"] if "~/.cache/llm-roadmap/executed" in str(s.get("with", {}))]
    assert len(cache) == 1 and cache[0]["if"] == "github.event_name != 'schedule'", cache


def test_link_check_reuses_the_built_site_and_executes_nothing():
    text = (WORKFLOWS / "links.yml").read_text(encoding="utf-8")
    assert "gh run download" in text
    for forbidden in ("make ", "tools.prebuild", "tools.build_site", "pip install"):
        assert forbidden not in text, forbidden
