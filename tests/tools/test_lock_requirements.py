"""requirements-lock.txt pins what requirements.txt does not: the versions a new machine installs do not
move when a dependency publishes a release (tools/lock_requirements.py)."""

import sys

from tools import lock_requirements as lock


def locked() -> dict[str, str]:
    return lock.pinned(lock.LOCK)


def test_requirements_read_the_lock_and_no_package_is_pinned_twice():
    assert "-c requirements-lock.txt" in lock.REQUIREMENTS.read_text(encoding="utf-8").splitlines()
    assert locked() and not set(locked()) & set(lock.pinned()), set(locked()) & set(lock.pinned())


def test_the_environment_is_the_pins_and_the_lock():
    """What `make test` installed is exactly requirements.txt plus the lock.  A package at another version
    (a changed pin pulled a newer dependency) or one the lock lacks (a new dependency) fails here: run
    `python -m tools.lock_requirements`.  On other systems than Linux a package of the lock may be absent
    or one may be added (platform-only dependencies), so there only the versions are compared."""
    have, pins = lock.installed(), lock.pinned()
    wrong = {n: (have[n], v) for n, v in (pins | locked()).items() if n in have and have[n].split("+")[0] != v}
    assert not wrong, f"installed, locked: {wrong}; run python -m tools.lock_requirements"
    if sys.platform == "linux":
        assert lock.lock_lines(have, pins) == [f"{n}=={v}" for n, v in sorted(locked().items())], (
            "the environment and requirements-lock.txt differ: run python -m tools.lock_requirements")


def test_lock_lines_leave_out_the_pins_and_pip():
    have = {"torch": "2.13.0+cpu", "filelock": "4.3.2", "pip": "26.0", "sympy": "1.14.0"}
    assert lock.lock_lines(have, {"torch": "2.13.0"}) == ["filelock==4.3.2", "sympy==1.14.0"]
