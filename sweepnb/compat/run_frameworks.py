"""The W&B ``Run`` attributes framework integrations touch (issue 24), W&B run methods of
``sweepnb.Run`` (``run_wandb.py``'s ``WandbRunMethods`` derives from this class).

Hugging Face's ``WandbCallback`` calls ``run._label(code="transformers_trainer")``; W&B code
calls ``run.log_code()`` and reads ``run.settings``. Each does here what W&B documents, offline
(``run.url``, ``dir``, ``step`` are the runtime's, in ``runtime/run_info.py``; ``watch`` is
``run_wandb.py``'s). The W&B parts are imported inside the methods, so a run that never calls
them loads none.
"""

from __future__ import annotations

import inspect
import os
import re
from pathlib import Path
from typing import Any

# folders `log_code` never walks into: version control, caches, virtual environments, stores
_SKIPPED_DIRS = {"__pycache__", "node_modules", "site-packages", "wandb"}


class FrameworkRunNames:
    """``_label``, ``settings``, ``log_code``."""

    id: str | None
    store: Any
    project: str | None
    dir: str

    def _label(self, code: str | None = None, repo: str | None = None, **labels: Any) -> None:
        """W&B's telemetry label of the integration that made the run: nothing to record."""
        return

    @property
    def settings(self) -> Any:
        """W&B's run settings, offline: ``mode``, ``run_id``, ``project``, ``files_dir``..."""
        from sweepnb.compat.offline import Settings

        return Settings(
            mode="offline",
            run_id=self.id,
            project=self.project,
            sweep_id=getattr(self, "sweep_id", None),
            files_dir=self.dir,
            run_name=getattr(self, "name", None),
        )

    def log_code(
        self,
        root: str | os.PathLike | None = ".",
        name: str | None = None,
        include_fn: Any = None,
        exclude_fn: Any = None,
    ) -> Any:
        """Log the code under ``root`` as an artifact of type ``code`` (W&B's ``run.log_code``).

        By default every ``.py`` file under ``root`` (hidden folders, caches and virtual
        environments skipped); ``include_fn(path, root)`` / ``exclude_fn(path, root)`` choose
        others. The artifact is named ``name`` or ``source-<project>-<script>``. Returns the
        logged artifact, or None when no file was chosen (as W&B).
        """
        from sweepnb.compat.artifacts import Artifact

        base = Path(os.fspath(root if root is not None else ".")).resolve()
        include = _two_args(include_fn) if include_fn else (lambda p, r: p.endswith(".py"))
        exclude = _two_args(exclude_fn) if exclude_fn else (lambda p, r: False)
        files = []
        for folder, dirs, names in os.walk(base):
            dirs[:] = sorted(
                d
                for d in dirs
                if not d.startswith(".")
                and d not in _SKIPPED_DIRS
                and not _is_venv(Path(folder, d))
            )
            for file in sorted(names):
                path = str(Path(folder, file))
                if include(path, str(base)) and not exclude(path, str(base)):
                    files.append(Path(path))
        if not files:
            return None
        artifact = Artifact(name or _code_name(self.project), type="code")
        for file in files:
            artifact.add_file(str(file), name=file.relative_to(base).as_posix())
        return self.log_artifact(artifact)  # type: ignore[attr-defined]


def _two_args(fn: Any) -> Any:
    """W&B calls ``include_fn(path, root)``; older code passes ``include_fn(path)``."""
    try:
        count = len(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        count = 2
    return fn if count >= 2 else (lambda path, root: fn(path))


def _is_venv(folder: Path) -> bool:
    return (folder / "pyvenv.cfg").is_file()


def _code_name(project: str | None) -> str:
    import sys

    script = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "notebook"
    text = f"source-{project or 'sweepnb'}-{script}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)
