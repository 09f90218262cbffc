"""`import wandb` runs unchanged: the shim package, the switches, notices and refused names.

Subprocesses start real interpreters: `sweepnb agent` running a W&B program (tests/wandb_examples),
scripts with `PYTHONPATH=$(sweepnb wandb-path)` or `import sweepnb.compat.enable`. The real wandb
is not installed here; a test that needs an "installed" one writes a package named `wandb`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sweepnb
from sweepnb.compat import names
from sweepnb.compat.names import NAMES, WANDB_ALL, WANDB_EXTRA, NotSupported
from sweepnb.compat.shim import program_env, real_wandb_origin, shim_path
from sweepnb.errors import SweepnbError
from sweepnb.store import Store

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = Path(__file__).resolve().parent / "wandb_examples"

pytestmark = pytest.mark.skipif(
    real_wandb_origin() is not None, reason="these tests expect no real wandb"
)


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without W&B/sweepnb settings; sweepnb importable from this checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "SWEEPNB_"))}
    # without the shim folder, which `%load_ext sweepnb` in another test may have put there
    path = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != shim_path()]
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *path])
    env.update(extra)
    return env


def python(code: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def with_shim(env: dict) -> dict:
    env["PYTHONPATH"] = shim_path() + os.pathsep + env["PYTHONPATH"]
    return env


# -- a program sweep run by the real CLI, `import wandb` unchanged ---------------------------


def test_a_program_sweep_imports_sweepnbs_wandb_through_the_cli(tmp_path):
    for name in ("sweep.yaml", "train.py"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    env = clean_env(SWEEPNB_STORE=str(tmp_path / "s.db"))
    created = subprocess.run(
        [sys.executable, "-m", "sweepnb", "sweep", "sweep.yaml"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    sweep_id = created.stdout.split("Created sweep with ID: ")[1].split()[0]
    agent = subprocess.run(
        [sys.executable, "-m", "sweepnb", "agent", sweep_id],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert agent.returncode == 0, agent.stderr
    runs = Store(str(tmp_path / "s.db")).get_runs(sweep_id)
    assert [r["state"] for r in runs] == ["finished", "finished"]
    for run in runs:
        losses = [row["val_loss"] for row in run["history"]]
        lr = run["config"]["learning_rate"]  # the swept value won over init()'s default 0.5
        assert losses == pytest.approx([lr * 1.2 / (e + 1) for e in range(3)])
        # the child process that cleared WANDB_* imported sweepnb's wandb too
        child = (tmp_path / f"child-{run['id']}.txt").read_text()
        assert child == str(Path(shim_path()) / "wandb" / "__init__.py")


def test_program_env_puts_the_shim_first_when_wandb_is_not_installed():
    env = program_env({"PYTHONPATH": "/somewhere"})
    assert env["PYTHONPATH"].split(os.pathsep) == [shim_path(), "/somewhere"]
    assert (
        program_env({"SWEEPNB_WANDB": "real", "PYTHONPATH": env["PYTHONPATH"]})["PYTHONPATH"]
        == "/somewhere"
    )


def fake_real_wandb(tmp_path: Path) -> Path:
    """A package named `wandb` on a folder: what an installed real wandb looks like to Python."""
    site = tmp_path / "site"
    (site / "wandb").mkdir(parents=True)
    (site / "wandb" / "__init__.py").write_text("KIND = 'real'\n")
    return site


PROBE = """
import sys
from sweepnb.compat.shim import program_env, real_wandb_origin, shim_path
env = program_env(dict(__import__("os").environ))
print("shim" if env.get("PYTHONPATH", "").startswith(shim_path()) else "real")
"""


@pytest.mark.parametrize(
    ("setting", "expected", "said"),
    [
        ({}, "real", "program runs import the installed wandb"),
        ({"SWEEPNB_WANDB": "sweepnb"}, "shim", "program runs import sweepnb's offline wandb"),
        ({"SWEEPNB_WANDB": "real"}, "real", ""),
    ],
)
def test_an_installed_wandb_is_never_shadowed_silently(tmp_path, setting, expected, said):
    env = clean_env(**setting)
    env["PYTHONPATH"] += os.pathsep + str(fake_real_wandb(tmp_path))
    done = python(PROBE, tmp_path, env)
    assert done.stdout.split() == [expected], done.stderr
    assert said in done.stderr
    assert done.stderr.count("sweepnb:") == (1 if said else 0)


def test_the_agent_flag_chooses_for_program_runs(tmp_path):
    code = PROBE.replace(
        'env = program_env(dict(__import__("os").environ))',
        "from sweepnb.compat.shim import program_wandb\n"
        "with program_wandb('sweepnb'):\n"
        '    env = program_env({**__import__("os").environ, "SWEEPNB_WANDB": "real"})',
    )
    env = clean_env()
    env["PYTHONPATH"] += os.pathsep + str(fake_real_wandb(tmp_path))
    done = python(code, tmp_path, env)
    assert done.stdout.split() == ["shim"], done.stderr
    assert "(--wandb), not the installed one" in done.stderr


def test_sweepnb_agent_wandb_flag_beats_an_installed_wandb(tmp_path):
    for name in ("sweep.yaml", "train.py"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    env = clean_env(SWEEPNB_STORE=str(tmp_path / "s.db"))
    env["PYTHONPATH"] += os.pathsep + str(fake_real_wandb(tmp_path))
    cli = [sys.executable, "-m", "sweepnb"]
    created = subprocess.run(
        [*cli, "sweep", "sweep.yaml"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    sweep_id = created.stdout.split("Created sweep with ID: ")[1].split()[0]
    real = subprocess.run(
        [*cli, "agent", sweep_id, "--count", "1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert real.stderr.count("program runs import the installed wandb") == 1
    ours = subprocess.run(
        [*cli, "agent", sweep_id, "--wandb", "sweepnb"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ours.returncode == 0, ours.stderr
    assert ours.stderr.count("program runs import sweepnb's offline wandb (--wandb)") == 1
    runs = Store(str(tmp_path / "s.db")).get_runs(sweep_id)
    # the fake "real" wandb has no login(): that run failed; the next one used sweepnb's
    assert [r["state"] for r in runs] == ["failed", "finished"]
    assert "has no attribute 'login'" in runs[0]["error"]


def test_a_bad_choice_names_the_argument(tmp_path):
    db = str(tmp_path / "s.db")
    sweep_id = sweepnb.sweep(
        {"program": "t.py", "method": "grid", "parameters": {"x": {"value": 1}}}, store=db
    )
    with pytest.raises(SweepnbError, match=r"wandb: expected 'sweepnb' or 'real', got 'cloud'"):
        sweepnb.agent(sweep_id, wandb="cloud", store=db)
    with pytest.raises(SweepnbError, match="SWEEPNB_WANDB: expected"):
        program_env({"SWEEPNB_WANDB": "yes"})
    done = subprocess.run(
        [sys.executable, "-m", "sweepnb", "agent", sweep_id, "--wandb", "cloud"],
        env=clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "--wandb: invalid choice: 'cloud'" in done.stderr


# -- the switches outside an agent ---------------------------------------------------------


def test_wandb_path_subcommand_prints_the_shim_folder():
    done = subprocess.run(
        [sys.executable, "-m", "sweepnb", "wandb-path"], env=clean_env(), capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == shim_path()
    assert (Path(done.stdout.strip()) / "wandb" / "__init__.py").is_file()


SCRIPT = """
import subprocess, sys
import wandb
run = wandb.init(config={"lr": 0.1})
wandb.log({"loss": wandb.config.lr * 2})
wandb.finish()
assert wandb.run is None
child = subprocess.run([sys.executable, "-c", "import wandb; print(wandb.__sweepnb_shim__)"],
                       capture_output=True, text=True)
print(run.id, child.stdout.strip())
"""


def test_a_script_with_the_env_switch_runs_unchanged(tmp_path):
    env = with_shim(clean_env(SWEEPNB_STORE=str(tmp_path / "s.db")))
    done = python(SCRIPT, tmp_path, env)
    assert done.returncode == 0, done.stderr
    run_id, child = done.stdout.split()
    assert child == "True"
    stored = Store(str(tmp_path / "s.db")).get_run(run_id)
    assert stored["state"] == "finished" and stored["summary"]["loss"] == 0.2


def test_one_line_enable_switch_covers_this_process_and_its_children(tmp_path):
    code = "import sweepnb.compat.enable\n" + SCRIPT
    done = python(code, tmp_path, clean_env(SWEEPNB_STORE=str(tmp_path / "s.db")))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[1] == "True"
    assert done.stderr == ""  # no real wandb installed: nothing to say


def test_enable_says_once_that_it_shadows_an_installed_wandb(tmp_path):
    env = clean_env()
    env["PYTHONPATH"] += os.pathsep + str(fake_real_wandb(tmp_path))
    code = (
        "import wandb; print(getattr(wandb, 'KIND', 'shim'))\n"
        "del __import__('sys').modules['wandb']\n"
        "import sweepnb.compat.enable, importlib; import wandb\n"
        "print(getattr(wandb, '__sweepnb_shim__', False))\n"
    )
    done = python(code, tmp_path, env)
    assert done.stdout.split() == ["real", "True"], done.stderr
    assert done.stderr.count("gives sweepnb's offline wandb, not") == 1


def test_enable_after_the_real_wandb_was_imported_warns_and_changes_nothing(tmp_path):
    env = clean_env()
    env["PYTHONPATH"] += os.pathsep + str(fake_real_wandb(tmp_path))
    code = (
        "import warnings; warnings.simplefilter('always')\n"
        "import wandb\n"
        "import sweepnb.compat.enable\n"
        "import wandb; print(wandb.KIND)\n"
    )
    done = python(code, tmp_path, env)
    assert done.stdout.split() == ["real"], done.stderr
    assert "the real wandb is already imported in this process" in done.stderr
    assert "SweepnbWarning" in done.stderr


def test_load_ext_enables_the_shim_when_wandb_is_not_installed_and_unload_ext_undoes_it(tmp_path):
    code = (
        "from IPython.testing.globalipapp import start_ipython\n"
        "ip = start_ipython()\n"
        "ip.run_line_magic('load_ext', 'sweepnb')\n"
        "import os, sys, wandb; print(wandb.__sweepnb_shim__)\n"
        "ip.run_line_magic('unload_ext', 'sweepnb')\n"
        "del sys.modules['wandb']\n"
        "print(any(p.endswith('compat/shim') for p in os.environ.get('PYTHONPATH', '').split(':')))\n"
        "import wandb\n"
    )
    done = python(code, tmp_path, clean_env())
    assert done.stdout.split()[-2:] == ["True", "False"], done.stderr
    assert "No module named 'wandb'" in done.stderr  # %unload_ext switched it off again


# -- submodules, notices, refused names ----------------------------------------------------

SUBMODULES = """
from wandb.keras import WandbCallback, WandbMetricsLogger, WandbModelCheckpoint
from wandb.integration.keras import WandbMetricsLogger as Logger2
from wandb.integration.xgboost import WandbCallback as XGBCallback, wandb_callback
from wandb.integration.lightgbm import wandb_callback as lgb_callback, log_summary
from wandb.errors import CommError, UsageError
from wandb.util import generate_id
import wandb
assert Logger2 is WandbMetricsLogger
assert issubclass(CommError, wandb.errors.Error)
print(WandbCallback.__name__, XGBCallback.__name__, len(generate_id()))
try:
    import wandb.integration.torch
except ModuleNotFoundError as err:
    print("ERR", err)
"""


def test_wandb_submodules_resolve(tmp_path):
    done = python(SUBMODULES, tmp_path, with_shim(clean_env()))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "WandbCallback WandbCallback 8"
    assert lines[1].startswith("ERR wandb.integration.torch: sweepnb does not support this W&B")


NOTICES = """
import torch, wandb
wandb.login(); wandb.login(key="x")
run = wandb.init(mode="disabled")
for _ in range(3):
    wandb.watch(torch.nn.Linear(2, 1), log="all", log_graph=True)
    wandb.save("missing-*.h5")
wandb.setup(); wandb.require("core"); wandb.unwatch()
"""


def test_a_call_that_drops_data_says_so_once_per_process(tmp_path):
    # issue 24: watch records histograms and save copies files; the model graph is dropped
    pytest.importorskip("torch")
    done = python(NOTICES, tmp_path, with_shim(clean_env()))
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, lines
    assert "wandb.watch(log_graph=True): the model graph is not drawn offline" in lines[0]


INIT_NOTICES = """
import wandb
for name in ("a", "b"):
    run = wandb.init(name=name, tags=["x"], reinit=True, settings=wandb.Settings(), mode="offline")
    wandb.finish()
"""


def test_init_keywords_with_no_effect_say_so_once_each(tmp_path):
    done = python(
        INIT_NOTICES, tmp_path, with_shim(clean_env(SWEEPNB_STORE=str(tmp_path / "s.db")))
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert [line.split("(")[1].split("=")[0] for line in lines] == ["reinit"]  # name, tags kept


@pytest.mark.parametrize("name", ["Molecule", "Object3D", "controller", "link_model", "restore"])
def test_refused_names_say_sweepnb_does_not_support_them(name):
    with pytest.raises(NotSupported, match=rf"^sweepnb\.{name}: sweepnb does not support it \("):
        getattr(sweepnb, name)
    with pytest.raises(AttributeError):  # hasattr still works
        getattr(sweepnb, name)
    assert not hasattr(sweepnb, name)


def test_an_unknown_name_is_refused_by_name_never_a_bare_attribute_error():
    with pytest.raises(NotSupported, match="sweepnb.Reticulate: sweepnb does not support it"):
        sweepnb.Reticulate  # noqa: B018
    with pytest.raises(AttributeError) as probe:  # Python's own probes stay plain
        sweepnb.__wrapped__  # noqa: B018
    assert not isinstance(probe.value, NotSupported)


def test_import_sweepnb_as_wandb_has_the_same_surface_as_the_shim(tmp_path):
    code = (
        "import sweepnb, wandb\n"
        f"names = {sorted(n for n, e in NAMES.items() if e.kind != 'refused')!r}\n"
        "for n in names:\n"
        "    try:\n"
        "        a = getattr(wandb, n)\n"
        "    except AttributeError as err:\n"
        "        a = type(err)\n"
        "    try:\n"
        "        b = getattr(sweepnb, n)\n"
        "    except AttributeError as err:\n"
        "        b = type(err)\n"
        "    same = a is b or n in ('integration', 'keras', 'errors', 'sklearn', 'util', 'plot')\n"
        "    print(n, same)\n"
    )
    done = python(code, tmp_path, with_shim(clean_env()))
    assert done.returncode == 0, done.stderr
    different = [line for line in done.stdout.splitlines() if not line.endswith("True")]
    assert different == []


# -- W&B's keyword forms of sweep and agent -------------------------------------------------


def test_sweep_and_agent_take_wandbs_keyword_forms(tmp_path):
    db = str(tmp_path / "s.db")
    cfg = {"method": "grid", "parameters": {"x": {"values": [1, 2]}}}
    sweep_id = sweepnb.sweep(sweep=cfg, entity="me", project="proj", store=db)
    seen = []
    sweepnb.agent(
        f"me/proj/{sweep_id}",
        function=lambda: seen.append(sweepnb.config.x),
        entity="me",
        project="proj",
        count=2,
        store=db,
    )
    assert sorted(seen) == [1, 2]
    sweep = Store(db).get_sweep(sweep_id)
    assert (sweep["entity"], sweep["project"]) == ("me", "proj")
    with pytest.raises(TypeError, match="sweep: the config was given twice"):
        sweepnb.sweep(cfg, sweep=cfg, store=db)
    with pytest.raises(TypeError, match="config: missing the sweep config"):
        sweepnb.sweep(store=db)


def test_prior_runs_keyword_is_accepted(tmp_path):
    db = str(tmp_path / "s.db")
    cfg = {"method": "grid", "parameters": {"x": {"values": [1, 2]}}}
    first = sweepnb.sweep(sweep=cfg, store=db)
    sweepnb.agent(first, function=lambda: sweepnb.log({"y": 1}), count=1, store=db)
    second = sweepnb.sweep(sweep=cfg, prior_runs=[first], store=db)
    assert len(Store(db).get_runs(second)) == 1


# -- the README table ----------------------------------------------------------------------


def readme_table() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("| W&B name | sweepnb | what it does |")
    return text[start:].split("\n\n")[0].strip()


def test_readme_table_lists_wandbs_names_with_the_kinds_of_the_table():
    table = readme_table()
    assert table == names.markdown_table()
    rows = [line.split("|")[1:3] for line in table.splitlines()[2:]]
    listed = {name.strip().strip("`"): kind.strip() for name, kind in rows}
    assert set(listed) == set(WANDB_ALL) | set(WANDB_EXTRA)
    assert all(listed[n] == NAMES[n].kind for n in listed)
    assert all(entry.kind in names.KINDS for entry in NAMES.values())


def test_the_name_lists_match_the_reference_document():
    for candidate in (ROOT.parent / "shared", Path("/work/shared")):
        doc = candidate / "reference" / "wandb-api.md"
        if doc.is_file():
            break
    else:
        pytest.skip("shared/reference/wandb-api.md is not beside this checkout")
    text = doc.read_text()

    def names_in(part: str) -> set[str]:
        return {re.match(r"`?(\w+)", item.strip()).group(1) for item in part.split(", ")}

    section = text.split("## W&B's own `__all__`")[1].split("Also used")[0]
    assert names_in(section.split(")", 1)[1].replace("\n", " ").strip(" .")) == set(WANDB_ALL)
    extra = text.split("Also used at top level though not in `__all__`:")[1].split("\n\n")[0]
    assert names_in(extra.replace("\n", " ").strip(" .")) == set(WANDB_EXTRA)


def test_a_name_sweepnb_registers_itself_resolves_to_that_object(monkeypatch):
    # the media and artifacts parts register their names in sweepnb's lazy table: W&B's name
    # must then be that very object, and a registration pointing back at compat must not loop
    monkeypatch.setitem(sweepnb._LAZY, "termlog", "sweepnb.compat.util")
    with pytest.raises(NotSupported, match=r"wandb.termlog: .* \(sweepnb.compat.util has no"):
        names.resolve("termlog")  # the registered module wins over the table
    monkeypatch.setitem(sweepnb._LAZY, "termlog", "sweepnb.compat.offline")
    from sweepnb.compat import offline

    assert names.resolve("termlog") is offline.termlog
    monkeypatch.setitem(sweepnb._LAZY, "Histogram", "sweepnb.compat")
    try:
        names.resolve("Histogram")
    except NotSupported as err:  # media is not in this copy: refused by name, no recursion
        assert "wandb.Histogram" in str(err)
