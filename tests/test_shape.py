"""The package layering of docs/architecture.md, checked by reading every module's
imports with `ast`: an import may only go down a layer, never up or sideways, so the
shared vocabulary stays at the bottom and no package cycle comes back; and the names
issue 15 found meaning two things at once."""
from __future__ import annotations

import ast
import json
from collections import defaultdict
from pathlib import Path

import pytest

import appliance
from appliance.config import load_config
from appliance.errors import BacklineError, Problem
from appliance.vocab.state import Health, State, TransportState

ROOT = Path(appliance.__file__).parent

# Top to bottom; packages on one line sit side by side and may not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__main__",),
    ("cli",),
    ("sim",),
    ("web",),                           # the web remote: a process of its own, via the socket
    ("service",),
    ("control", "ui", "songs"),        # songs: import, loudness, sync
    ("audio",),                         # engine, player, render, inbox
    ("audio.play", "audio.record"),     # the transport; takes
    ("audio.disk",),                    # a song made ready: stems, read-ahead, loader
    ("audio.synth",),                   # a chart's parts made sound (FluidSynth), live plan
    ("audio.mix", "audio.threads"),     # mixer, click, limiter; priorities, wake-ups
    ("config",),
    ("audio.backends", "timeline"),
    ("tomlfields",),
    ("errors", "files", "lifetime", "demo"),   # demo: the bundled songs, data only
    ("vocab",),
)
RANK = {pkg: rank for rank, line in enumerate(LAYERS) for pkg in line}


def package_of(module: str) -> str | None:
    """The layer package a dotted module (without `appliance.`) belongs to."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in RANK:
            return ".".join(parts[:n])
    return None


def module_name(path: Path, root: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def imports(path: Path, root: Path) -> list[tuple[int, str, str]]:
    """(line, imported name without `appliance.`, source text) for each import of ours.
    `from x import y` counts as importing `x.y`: y may be a module itself."""
    module, is_package = module_name(path, root)
    here = ["appliance"] + (module.split(".") if is_package else module.split(".")[:-1])
    source = path.read_text()
    found = []
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = here[:len(here) - (node.level - 1)] if node.level else []
            stem = ".".join(base + ([node.module] if node.module else []))
            targets = [f"{stem}.{a.name}" for a in node.names]
        else:
            continue
        text = ast.get_source_segment(source, node) or ""
        found += [(node.lineno, t[len("appliance."):], text) for t in targets
                  if t.startswith("appliance.") and package_of(t[len("appliance."):])]
    return found


def wrong_way(root: Path) -> list[str]:
    """Every import that goes up or sideways, as `module:line: import`."""
    bad = []
    for path in sorted(root.rglob("*.py")):
        module, _ = module_name(path, root)
        mine = package_of(module) if module else "cli"   # appliance/__init__.py: the top
        assert mine, f"{module} belongs to no layer: add its package to LAYERS"
        for line, target, text in imports(path, root):
            theirs = package_of(target)
            if theirs != mine and RANK[theirs] <= RANK[mine]:
                way = "sideways" if RANK[theirs] == RANK[mine] else "up"
                message = f"{path.relative_to(root.parent)}:{line}: {text} ({mine} -> {theirs}, {way})"
                if message not in bad:
                    bad.append(message)
    return bad


def test_imports_only_go_down():
    bad = wrong_way(ROOT)
    assert not bad, "imports against the layering (docs/architecture.md):\n" + "\n".join(bad)


def test_the_bottom_layer_imports_nothing_of_ours():
    for path in sorted((ROOT / "vocab").rglob("*.py")):
        others = [t for _, t, _ in imports(path, ROOT) if package_of(t) != "vocab"]
        assert not others, f"{path.name} imports {others}"


def test_an_upward_import_is_named_with_its_line(tmp_path):
    pkg = tmp_path / "appliance"
    for sub in ("vocab", "audio", "control"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "vocab" / "state.py").write_text("X = 1\n")
    (pkg / "audio" / "engine.py").write_text("from ..vocab.state import X\n\nfrom ..control import keys\n")
    (pkg / "control" / "keys.py").write_text("from appliance.audio import engine\n")
    assert wrong_way(pkg) == [
        "appliance/audio/engine.py:3: from ..control import keys (audio -> control, up)"]


# Module-level names still defined in more than one module, each private to its own job
# and never imported side by side; left for a later step of issue 15.
KNOWN_TWICE = {"SONGS", "SETLISTS", "SUBTYPES", "CHUNK"}


def test_a_constant_name_has_one_meaning():
    where = defaultdict(list)
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.parse(path.read_text()).body:
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, ast.AnnAssign) else []
            for target in targets:
                for name in target.elts if isinstance(target, ast.Tuple) else [target]:
                    if isinstance(name, ast.Name) and name.id.isupper():
                        where[name.id].append(str(path.relative_to(ROOT)))
    twice = {name: paths for name, paths in where.items()
             if len(paths) > 1 and name not in KNOWN_TWICE}
    assert not twice


def test_transport_and_health_are_enums_that_read_as_their_text():
    state = State()
    assert state.transport is TransportState.STOPPED and state.health is Health.HEALTHY
    assert state.health == "healthy" and TransportState("count-in") is TransportState.COUNT_IN
    assert f"{Health.STALLED} {TransportState.COUNT_IN}" == "stalled count-in"
    assert json.dumps([TransportState.PLAYING, Health.FAULTED]) == '["playing", "faulted"]'


def test_an_error_declares_its_problems(tmp_path):
    problem = Problem(tmp_path / "song.toml", "bpm", "must be a number")
    assert BacklineError(problem).problems == [problem]
    path = tmp_path / "config.toml"
    path.write_text('[audio]\nrate = 12345\nformat = "MP3"\n')
    with pytest.raises(BacklineError) as caught:
        load_config(path)
    assert [(p.file, p.field) for p in caught.value.problems] == \
        [(path, "audio.rate"), (path, "audio.format")]
    assert caught.value.problem == caught.value.problems[0]
