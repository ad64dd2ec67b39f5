"""deploy/install.sh against a fake root: the files it writes, idempotence, uninstall."""
from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
INSTALL = REPO / "deploy" / "install.sh"


def _install(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(INSTALL), "--root", str(root), *args],
                          capture_output=True, text=True, timeout=60)


def _tree(root: Path) -> dict[str, float]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*")}


def test_install_writes_the_box_and_twice_changes_nothing(tmp_path):
    root = tmp_path / "root"
    (root / "boot" / "firmware").mkdir(parents=True)
    (root / "boot" / "firmware" / "config.txt").write_text("dtparam=audio=on\n")
    r = _install(root, "--profile", "hifiberry-dacplus-adc")
    assert r.returncode == 0, r.stderr
    unit = root / "etc" / "systemd" / "system" / "backline.service"
    assert unit.read_text() == (REPO / "systemd" / "backline.service").read_text()
    rule = root / "etc/polkit-1/rules.d/50-backline.rules"      # the menu may power off
    assert rule.read_text() == (REPO / "systemd" / "50-backline.rules").read_text()
    assert 'subject.user == "backline"' in rule.read_text()
    assert 'device = "hw:CARD=sndrpihifiberry,DEV=0"' in (root / "etc/backline/config.toml").read_text()
    assert (root / "boot/firmware/config.txt").read_text() == \
        "dtparam=audio=on\ndtoverlay=hifiberry-dacplusadc\n"
    assert (root / "etc/default/cpufrequtils").read_text() == "GOVERNOR=performance\n"
    assert (root / "var/lib/backline/library/songs/demo/song.toml").is_file()
    assert (root / "var/lib/backline/recordings").is_dir()
    before = _tree(root)
    again = _install(root, "--profile", "hifiberry-dacplus-adc")
    assert again.returncode == 0 and "nothing to change" in again.stdout
    assert _tree(root) == before


def test_a_config_the_user_edited_is_kept(tmp_path):
    root = tmp_path / "root"
    _install(root, "--profile", "usb")
    cfg = root / "etc/backline/config.toml"
    cfg.write_text("# mine\n")
    _install(root, "--profile", "pisound")
    assert cfg.read_text() == "# mine\n"


def test_unknown_profile_and_uninstall(tmp_path):
    root = tmp_path / "root"
    r = _install(root, "--profile", "nope")
    assert r.returncode == 2 and "no profile 'nope'; choose one of: audioinjector-octo" in r.stderr
    _install(root)
    r = _install(root, "--uninstall")
    assert r.returncode == 0
    assert not (root / "etc/systemd/system/backline.service").exists()
    assert not (root / "etc/polkit-1/rules.d/50-backline.rules").exists()
    assert (root / "var/lib/backline/library").is_dir()        # the musician's files stay


def test_scripts_are_shellcheck_clean():
    r = subprocess.run(["shellcheck", str(INSTALL), str(REPO / "deploy" / "dev.sh"),
                        str(REPO / ".ci" / "run")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout
