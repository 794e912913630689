"""The `hubwatch` command as a user meets it: one --home on every command, help that is never cut
short, and every mistake answered by one line on stderr, a non-zero exit and nothing created. The
installed command's process answers one mistake of each kind (a command's refusal, a usage error),
the default home (its working folder) and --help; the other cases run the same click group in this
process (conftest.hubwatch_here)."""

import os
import subprocess
from datetime import date
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from dagster_project.cli import main, next_steps
from tests.conftest import HUBWATCH, hubwatch_here


def user_env(home=None) -> dict[str, str]:
    """This environment without hubwatch's settings, the home given as $HUBWATCH_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBWATCH_", "CIVITAI_", "HF_"))}
    if home is not None:
        env["HUBWATCH_HOME"] = str(home)
    return env


def run(*args: str, home=None, cwd=None, timeout: float = 60) -> subprocess.CompletedProcess:
    """The installed command, in its own process."""
    return subprocess.run(
        [HUBWATCH, *args], env=user_env(home), cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def run_here(*args: str, home=None) -> subprocess.CompletedProcess:
    """The same command in this process (conftest.hubwatch_here)."""
    return hubwatch_here(*args, env=user_env(home))


def assert_one_line_error(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode != 0, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hubwatch: error: "), done.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_every_command_takes_home():
    """Each command's help, as click renders it from the command (in this process: a help screen is
    the same text whichever process prints it, and a `hubwatch` start-up per command cost ~1.3 CPU-s)."""
    without = [name for name, command in main.commands.items() if not any(p.name == "home" for p in command.params)]
    assert without == []
    for name in main.commands:
        shown = CliRunner().invoke(main, [name, "--help"])
        assert shown.exit_code == 0 and "--home DIRECTORY" in shown.output, (name, shown.output)


def test_home_option_wins_over_the_environment(tmp_path):
    given, env_home = tmp_path / "given", tmp_path / "from-env"
    done = run_here("build", "--home", str(given), home=env_home)
    assert_one_line_error(done, f"no complete snapshots under {given}/raw")
    done = run_here("sql", "--home", str(given), "select 1", home=env_home)
    assert_one_line_error(done, f"no published package at {given}/publish/latest")


def test_the_default_home_is_data_in_the_current_folder(tmp_path):
    done = run("build", cwd=tmp_path)
    assert_one_line_error(done, f"no complete snapshots under {tmp_path}/data/raw")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["build"], ["no complete snapshots under", "hubwatch snapshot"]),
        (["build", "--full-refresh"], ["no complete snapshots under"]),
        (["publish"], ["no warehouse at", "hubwatch build"]),
        (["dashboards"], ["no published package at"]),
        (["sql", "select 1"], ["no published package at"]),
        (["diff", "2025-01-01", "2025-02-01"], ["no package '2025-01-01'"]),
    ],
)
def test_commands_on_an_empty_home_say_so_and_create_nothing(tmp_path, args, words):
    home = tmp_path / "home"
    home.mkdir()
    done = (run if args == ["build"] else run_here)(*args, home=home)  # the first as its own process
    assert_one_line_error(done, *words)
    assert list(home.iterdir()) == []  # no dagster/, logs/, secrets/ or dbt/ left behind


def test_import_with_a_missing_mapping_file(tmp_path):
    table = tmp_path / "images.csv"
    table.write_text("id,createdAt\n1,2024-01-01\n")
    done = run_here(
        "import", "civitai-images-table", str(table), "--as-of", "2024-01-02", "--mapping", "/nonexistent.json",
        home=tmp_path / "home",
    )  # fmt: skip
    assert_one_line_error(done, "--mapping", "/nonexistent.json", "does not exist")
    assert not (tmp_path / "home").exists()


def test_import_of_a_folder_that_is_not_a_crawl(tmp_path):
    """What `import civitai-models-json /tmp` meets: other programs' JSON and files among folders."""
    junk = tmp_path / "tmp"
    (junk / "someone" / "raw").mkdir(parents=True)
    (junk / "someone" / "raw" / "manifest.json").write_bytes(orjson.dumps({"source": "hf_models"}))
    (junk / "notes.txt").write_text("hello")
    (junk / ".cache").mkdir()
    (junk / ".cache" / "hidden.json").write_text("not json")
    done = run_here("import", "civitai-models-json", str(junk), "--as-of", "2023-07-05", home=tmp_path / "home")
    assert_one_line_error(done, "manifest.json item 0", "id: Field required")
    assert not (tmp_path / "home").exists()


def test_demo_refuses_dates_backwards_before_starting_anything(tmp_path):
    done = run_here("demo", "--start", "2025-06-01", "--end", "2025-01-01", home=tmp_path / "home")
    assert_one_line_error(done, "--start 2025-06-01 is after --end 2025-01-01")
    assert done.stdout == ""  # the world was not built, fakehub not started
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize("option", ["--start", "--end"])
def test_a_bad_date_names_the_option_it_was_given_to(tmp_path, option):
    done = run_here("demo", option, "2025-99-01", home=tmp_path / "home")
    assert_one_line_error(done, f"Invalid value for '{option}'", "'2025-99-01' is not a date (YYYY-MM-DD)")
    assert "--as-of" not in done.stderr


def test_demo_refuses_a_home_holding_real_snapshots(tmp_path):
    home = tmp_path / "home"
    partition = home / "raw" / "civitai_models" / "snapshot_date=2025-01-01"
    partition.mkdir(parents=True)
    (partition / "manifest.json").write_bytes(orjson.dumps({"kind": "live"}))
    done = run_here("demo", "--start", "2025-01-01", "--end", "2025-02-01", home=home)
    assert_one_line_error(done, "holds live or imported snapshots (civitai_models)", "--home")
    assert sorted(p.name for p in home.iterdir()) == ["raw"]


@pytest.mark.parametrize(
    "args", [["sql"], ["nonsense"], ["publish", "--date", "yesterday"], ["snapshot", "--max-pages", "0"]]
)
def test_usage_errors_are_one_line(tmp_path, args):
    done = (run if args == ["nonsense"] else run_here)(*args, home=tmp_path / "home")  # one as its own process
    assert_one_line_error(done)
    assert done.returncode == 2


def test_help_lines_are_not_cut_short():
    done = run("--help")
    assert done.returncode == 0
    commands = done.stdout.split("Commands:")[1]
    assert "..." not in commands and "…" not in commands
    listing = " ".join(commands.split())
    for name, command in main.commands.items():
        first_sentence = " ".join(command.help.split(".")[0].split())
        assert first_sentence in listing, name


def test_the_demo_ends_with_commands_that_reach_its_home(tmp_path, monkeypatch):
    home = tmp_path / "my demo"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", [HUBWATCH])
    lines = next_steps(home, date(2025, 12, 1)).splitlines()
    assert f"{HUBWATCH} sql --home '{home}' \"select" in lines[1]
    assert "where month < date '2025-12-01'" in lines[1]  # whole months only
    assert home.as_uri() + "/publish/latest/dashboards/index.html" in lines[2]
    assert f"make -C {Path(__file__).resolve().parent.parent} dev HUBWATCH_HOME='{home}'" in lines[3]


def test_a_command_run_in_this_process_leaves_the_process_as_it_found_it(fakehub, tmp_path):
    """conftest.hubwatch_here runs a whole command (here a verbose snapshot: its logging set up, a
    Dagster run executed) in the pytest worker, which then runs other tests: the environment, the
    root logger and the loggers it quiets, the collector's freeze, the signal handlers, the working
    folder and the standard streams are as they were."""
    import gc
    import logging
    import signal
    import sys
    import warnings

    from dagster_project import runs
    from tests.conftest import hub_env

    def state() -> dict:
        root = logging.getLogger()
        return {
            "environ": dict(os.environ),
            "root": (root.handlers[:], root.level),
            "levels": {name: logging.getLogger(name).level for name in ("httpx", "dagster", "dagster_dbt")},
            "gc": (gc.callbacks[:], gc.get_freeze_count(), gc.isenabled()),
            "signals": {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)},
            "cwd": os.getcwd(),
            "streams": (sys.stdin, sys.stdout, sys.stderr),
            "partitions": (runs.partitions_home, runs.partitions_floor),
            "warnings": (warnings.filters[:], warnings.showwarning),
        }

    before = state()
    args = ("-v", "snapshot", "--sources", "civitai_models", "--as-of", "2025-03-01", "--max-pages", "1")
    done = hubwatch_here(*args, env=hub_env(fakehub, tmp_path / "home"))
    assert done.returncode == 0 and "stopped at --max-pages" in done.stderr, done.stderr
    assert state() == before


def test_a_warning_of_a_command_run_in_this_process_reaches_its_stderr(tmp_path, monkeypatch):
    """As in the command's own process (Python's default filters): a UserWarning is written to the
    command's stderr, where a one-line assertion sees it; a DeprecationWarning raised outside
    __main__ is not, as a process would not show it."""
    import warnings

    import publish.query

    def warns(spec, home):
        warnings.warn("a warning a user would see", UserWarning, stacklevel=1)
        warnings.warn("a deprecation a user would not see", DeprecationWarning, stacklevel=1)
        raise publish.query.QueryError("no package")

    monkeypatch.setattr(publish.query, "resolve_package", warns)
    done = hubwatch_here("sql", "select 1", env=user_env(tmp_path / "home"))
    assert done.returncode != 0
    assert "UserWarning: a warning a user would see" in done.stderr
    assert "deprecation" not in done.stderr
