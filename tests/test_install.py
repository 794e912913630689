"""`make install`: the interpreter the environment is built on (the Makefile's VENV_PYTHON).

Where PYTHON is left to its default and that `python3` is a build without --enable-optimizations,
the distribution's build of the same version (DISTRIBUTION_BIN/pythonX.Y: Debian's /usr/bin/python3.11
beside pyenv's python3.11 here; README, Performance: "The interpreter") when it imports what hubwatch
needs of the standard library; else PYTHON itself. VENV_PYTHON=... chooses outright. Read from
make's dry run of the step that builds .venv/ (nothing is installed or changed), with stand-ins
for the interpreters that answer what the Makefile asks of them."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
OWN_VERSION = "{}.{}".format(*sys.version_info[:2])
# what the caller's make passes down or the caller's shell sets: the dry run sees only what a test gives it
OUTER = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTHON", "VENV_PYTHON", "DISTRIBUTION_BIN")


def environment_python(*variables: str, path: Path | None = None, **environment: str) -> str:
    """The interpreter `make install` would give `uv sync --python`, with these make variables on
    its command line (NAME=value), environment variables, and path put first on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in OUTER} | environment
    if path is not None:
        env["PATH"] = f"{path}{os.pathsep}{env['PATH']}"
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "-B", ".venv/.synced", *variables],
        cwd=REPO, env=env, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    [sync] = [line for line in done.stdout.splitlines() if " sync " in line]
    return re.search(r"--python (\S+)", sync).group(1)


def stand_in(path: Path, says: str = "", fails: bool = False) -> Path:
    """An executable at path that prints `says` ("$0": its own path) or exits 1."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 1\n" if fails else f'#!/bin/sh\necho "{says}"\n')
    path.chmod(0o755)
    return path


def python3_built(path: Path, config_args: str) -> Path:
    """A `python3` at path: this interpreter, answering the Makefile's question as a build
    configured with config_args would (sysconfig's CONFIG_ARGS)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    patch = f"import sys, sysconfig; sysconfig.get_config_vars()['CONFIG_ARGS'] = {config_args!r}; exec(sys.argv[1])"
    path.write_text(f'#!/bin/sh\nexec "{sys.executable}" -c "{patch}" "$2"\n')  # make runs: python3 -c CODE
    path.chmod(0o755)
    return path


@pytest.fixture
def machine(tmp_path):
    """A `python3` first on PATH that is a plain build (pyenv's default configuration) of this
    Python's version, and a distribution folder to put a python of that version in."""
    python3_built(tmp_path / "bin" / "python3", "--enable-shared")
    return tmp_path / "bin", tmp_path / "distribution"


def test_a_plain_python3_gives_way_to_the_distributions_build_of_its_version(machine):
    path, distribution = machine
    built = stand_in(distribution / f"python{OWN_VERSION}", says="$0")
    assert environment_python(f"DISTRIBUTION_BIN={distribution}", path=path) == str(built)


def test_without_a_distribution_build_of_its_version_python3_itself_is_used(machine):
    path, distribution = machine
    stand_in(distribution / "python3.0", says="$0")  # another version is no substitute
    assert environment_python(f"DISTRIBUTION_BIN={distribution}", path=path) == "python3"


def test_a_distribution_build_that_lacks_a_needed_module_is_passed_over(machine):
    path, distribution = machine
    stand_in(distribution / f"python{OWN_VERSION}", fails=True)  # its import of bz2, ctypes, lzma, sqlite3 or ssl fails
    assert environment_python(f"DISTRIBUTION_BIN={distribution}", path=path) == "python3"


def test_an_optimised_python3_is_kept(machine):
    path, distribution = machine
    python3_built(path / "python3", "--enable-shared --enable-optimizations --with-lto")
    stand_in(distribution / f"python{OWN_VERSION}", says="$0")
    assert environment_python(f"DISTRIBUTION_BIN={distribution}", path=path) == "python3"


def test_a_python_given_is_the_one_used(machine, tmp_path):
    path, distribution = machine
    stand_in(distribution / f"python{OWN_VERSION}", says="$0")
    given = python3_built(tmp_path / "mine" / "python", "--enable-shared")
    assert environment_python(f"PYTHON={given}", f"DISTRIBUTION_BIN={distribution}", path=path) == str(given)
    assert environment_python(f"DISTRIBUTION_BIN={distribution}", path=path, PYTHON=str(given)) == str(given)


def test_venv_python_chooses_outright(machine):
    path, distribution = machine
    stand_in(distribution / f"python{OWN_VERSION}", says="$0")
    assert environment_python("VENV_PYTHON=/opt/python3", f"DISTRIBUTION_BIN={distribution}", path=path) == (
        "/opt/python3"
    )
    assert environment_python(f"DISTRIBUTION_BIN={distribution}", path=path, VENV_PYTHON="/opt/python3") == (
        "/opt/python3"
    )


def test_the_makefiles_questions_put_to_real_interpreters(tmp_path):
    """The Makefile's own questions (is python3 a build without --enable-optimizations, and of
    which version; does the distribution's build import what hubwatch needs) put to real
    interpreters: this environment's base interpreter as python3, and /usr/bin/pythonX.Y. Skipped
    where the machine has no usable /usr/bin/pythonX.Y of this version."""
    import sysconfig

    distribution = Path(f"/usr/bin/python{OWN_VERSION}")
    probe = [distribution, "-c", "import bz2, ctypes, lzma, sqlite3, ssl"]
    if not distribution.is_file() or subprocess.run(probe, check=False).returncode:
        pytest.skip(f"no usable {distribution} on this machine")
    (tmp_path / "python3").symlink_to(Path(sys.base_prefix) / "bin" / f"python{OWN_VERSION}")
    optimised = "--enable-optimizations" in (sysconfig.get_config_var("CONFIG_ARGS") or "")
    assert environment_python(path=tmp_path) == ("python3" if optimised else str(distribution))
