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
    web = root / "etc" / "systemd" / "system" / "backline-web.service"
    assert web.read_text() == (REPO / "systemd" / "backline-web.service").read_text()
    rule = root / "etc/polkit-1/rules.d/50-backline.rules"      # the menu may power off
    assert rule.read_text() == (REPO / "systemd" / "50-backline.rules").read_text()
    assert 'subject.user == "backline"' in rule.read_text()
    assert 'device = "hw:CARD=sndrpihifiberry,DEV=0"' in (root / "etc/backline/config.toml").read_text()
    assert (root / "boot/firmware/config.txt").read_text() == \
        "dtparam=audio=on\ndtoverlay=hifiberry-dacplusadc\n"
    assert (root / "etc/default/cpufrequtils").read_text() == "GOVERNOR=performance\n"
    assert (root / "var/lib/backline/library/songs/demo/song.toml").is_file()
    assert (root / "var/lib/backline/library/songs/demo-chart/chart.txt").is_file()
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
    assert not (root / "etc/systemd/system/backline-web.service").exists()
    assert (root / "var/lib/backline/library").is_dir()        # the musician's files stay


def test_scripts_are_shellcheck_clean():
    r = subprocess.run(["shellcheck", str(INSTALL), str(REPO / "deploy" / "dev.sh"),
                        str(REPO / ".ci" / "run"), str(REPO / "deploy" / "usb-sync.sh")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout


MOUNT = "etc/systemd/system/var-lib-backline.mount"


def _unit(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines()
                if "=" in line and not line.startswith("#"))


def test_overlay_without_a_data_disk_is_refused_and_writes_nothing(tmp_path):
    root = tmp_path / "root"
    r = _install(root, "--overlay")
    assert r.returncode == 2
    assert "--overlay makes the root read-only" in r.stderr
    assert "give --data DEVICE|PATH (an ext4 partition or USB disk)" in r.stderr
    assert not root.exists()


def test_the_data_disk_is_mounted_ext4_at_var_lib_backline_before_the_service(tmp_path):
    root = tmp_path / "root"
    r = _install(root, "--overlay", "--data", "LABEL=backline")
    assert r.returncode == 0, r.stderr
    mount = _unit((root / MOUNT).read_text())
    assert mount["What"] == "/dev/disk/by-label/backline"
    assert mount["Where"] == "/var/lib/backline" and mount["Type"] == "ext4"
    assert "data=ordered" in mount["Options"].split(",")     # journaled, metadata first
    assert mount["WantedBy"] == "local-fs.target"            # a missing disk: the Pi boots
    assert mount["Before"] == "backline.service"
    service = _unit((root / "etc/systemd/system/backline.service").read_text())
    assert service["RequiresMountsFor"] == "/var/lib/backline"   # ... and the player waits
    again = _install(root, "--overlay", "--data", "LABEL=backline")
    assert again.returncode == 0 and "nothing to change" in again.stdout
    assert _install(root, "--uninstall").returncode == 0
    assert not (root / MOUNT).exists()
    assert (root / "var/lib/backline/library").is_dir()


def test_data_as_a_uuid_a_device_or_a_folder(tmp_path):
    cases = {"UUID=0f1e": ("/dev/disk/by-uuid/0f1e", "ext4"), "/dev/sda1": ("/dev/sda1", "ext4"),
             "/srv/disk/backline": ("/srv/disk/backline", "none")}
    for i, (given, (what, kind)) in enumerate(cases.items()):
        root = tmp_path / str(i)
        assert _install(root, "--data", given).returncode == 0
        mount = _unit((root / MOUNT).read_text())
        assert (mount["What"], mount["Type"]) == (what, kind)
    assert _unit((tmp_path / "2" / MOUNT).read_text())["Options"] == "bind"
    r = _install(tmp_path / "bad", "--data", "sda1")
    assert r.returncode == 2 and "--data sda1: give a device" in r.stderr
    r = _install(tmp_path / "bad", "--format-data")
    assert r.returncode == 2 and "give --data" in r.stderr
    assert not (tmp_path / "bad").exists()


def test_usb_sticks_rule_unit_and_script_are_installed_and_removed(tmp_path):
    root = tmp_path / "root"
    assert _install(root).returncode == 0
    rule = root / "etc/udev/rules.d/99-backline-usb.rules"
    unit = root / "etc/systemd/system/backline-sync@.service"
    script = root / "opt/backline/usb-sync"
    assert rule.read_text() == (REPO / "systemd" / "99-backline-usb.rules").read_text()
    assert unit.read_text() == (REPO / "systemd" / "backline-sync@.service").read_text()
    assert script.read_text() == (REPO / "deploy" / "usb-sync.sh").read_text()
    assert script.stat().st_mode & 0o111
    assert _install(root, "--uninstall").returncode == 0
    assert not rule.exists() and not unit.exists() and not script.exists()


def test_the_usb_rule_starts_the_sync_unit_for_a_usb_filesystem():
    """No udevadm here: the rule's one line read as udev reads it (comma-separated
    KEY op "value"), matching only an added USB block device with a filesystem."""
    import re
    [line] = [ln for ln in (REPO / "systemd" / "99-backline-usb.rules").read_text().splitlines()
              if ln and not ln.startswith("#")]
    pairs = [re.fullmatch(r'\s*([A-Z_]+(?:\{[A-Z_]+\})?)\s*(==|\+=|=)\s*"([^"]*)"', part)
             for part in line.split(",")]
    assert all(pairs), line
    got = [(m[1], m[2], m[3]) for m in pairs]
    assert got == [("ACTION", "==", "add"), ("SUBSYSTEM", "==", "block"),
                   ("ENV{ID_BUS}", "==", "usb"), ("ENV{ID_FS_USAGE}", "==", "filesystem"),
                   ("TAG", "+=", "systemd"),
                   ("ENV{SYSTEMD_WANTS}", "+=", "backline-sync@%k.service")]


def test_the_sync_unit_verifies(tmp_path):
    """`systemd-analyze verify` on an instance: only the script's absence (it is installed
    into /opt/backline on the box) may be said."""
    import shutil
    import pytest
    if not shutil.which("systemd-analyze"):
        pytest.skip("no systemd-analyze")
    unit = tmp_path / "backline-sync@sda1.service"
    unit.write_text((REPO / "systemd" / "backline-sync@.service").read_text())
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)],
                       capture_output=True, text=True)
    said = [ln for ln in (r.stdout + r.stderr).splitlines() if ln.strip()]
    assert all("/opt/backline/usb-sync is not executable" in ln for ln in said), said
    assert "ExecStart=/opt/backline/usb-sync %I" in unit.read_text()



def test_the_web_unit_is_hardened_unprivileged_and_runs_backline_web():
    """Exposure at most 2.5 (`systemd-analyze security`), its own user in the socket's
    group, the network only as IPv4, IPv6 and UNIX sockets, ExecStart `backline web`."""
    import shutil
    import pytest
    if not shutil.which("systemd-analyze"):
        pytest.skip("no systemd-analyze")
    path = REPO / "systemd" / "backline-web.service"
    out = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(path)],
                         capture_output=True, text=True)
    line = [ln for ln in out.stdout.splitlines() if "Overall exposure level" in ln][0]
    assert float(line.split(":")[1].split()[0]) <= 2.5, line
    unit = _unit(path.read_text())
    assert unit["ExecStart"].split() == ["/opt/backline/venv/bin/backline", "web"]
    assert unit["User"] == "backline-web" and "backline-remote" in unit["SupplementaryGroups"]
    assert unit["RestrictAddressFamilies"].split() == ["AF_INET", "AF_INET6", "AF_UNIX"]
    assert "PrivateNetwork" not in unit


def _avahi_service(path: Path) -> tuple[str, int]:
    import xml.etree.ElementTree as ET
    service = ET.parse(path).getroot().find("service")
    return service.findtext("type"), int(service.findtext("port"))


def test_the_avahi_file_announces_the_web_remote_on_its_port():
    from appliance.cli.web import DEFAULT_LISTEN
    assert _avahi_service(REPO / "deploy/avahi/backline.service") == \
        ("_http._tcp", int(DEFAULT_LISTEN.rsplit(":", 1)[1]))


def test_tls_makes_a_certificate_once_serves_https_and_announces_it(tmp_path):
    from appliance.config import load_config
    root = tmp_path / "root"
    (root / "etc/avahi/services").mkdir(parents=True)
    (root / "etc/hostname").write_text("stagebox\n")
    assert _install(root).returncode == 0
    avahi = root / "etc/avahi/services/backline.service"
    assert _avahi_service(avahi)[0] == "_http._tcp"
    cfg = root / "etc/backline/config.toml"
    cfg.write_text(cfg.read_text() + "\n[web]\nupload_limit_mb = 100\n")
    r = _install(root, "--tls")
    assert r.returncode == 0, r.stderr
    cert, key = root / "etc/backline/web/web.crt", root / "etc/backline/web/web.key"
    assert key.stat().st_mode & 0o777 == 0o600
    text = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-subject", "-ext",
                           "subjectAltName"], capture_output=True, text=True, check=True).stdout
    assert "CN = backline.local" in text
    assert "DNS:backline.local, DNS:stagebox.local, DNS:stagebox" in text
    config = load_config(cfg)
    assert (config.web_tls_cert, config.web_tls_key, config.web_upload_mb) == \
        (Path("/etc/backline/web/web.crt"), Path("/etc/backline/web/web.key"), 100)
    assert _avahi_service(avahi)[0] == "_https._tcp"
    before = _tree(root), cert.read_bytes()
    again = _install(root, "--tls")
    assert again.returncode == 0 and "nothing to change" in again.stdout
    assert (_tree(root), cert.read_bytes()) == before           # the same certificate
    assert _install(root, "--uninstall").returncode == 0
    assert not avahi.exists() and cert.is_file()                  # /etc/backline is kept


def test_tls_on_a_config_without_a_web_table_adds_one(tmp_path):
    from appliance.config import load_config
    root = tmp_path / "root"
    assert _install(root, "--tls").returncode == 0
    assert not (root / "etc/avahi").exists()                      # no Avahi: none written
    config = load_config(root / "etc/backline/config.toml")
    assert config.web_tls_cert == Path("/etc/backline/web/web.crt")


def test_a_pi_named_raspberrypi_becomes_backline_local_and_a_chosen_name_stays(tmp_path):
    """The web remote is http://backline.local: Avahi announces the host name, so the
    installer renames Raspberry Pi OS's default host, keeps a name someone chose, and sets
    the one asked for."""
    pi = tmp_path / "pi"
    (pi / "etc").mkdir(parents=True)
    (pi / "etc/hostname").write_text("raspberrypi\n")
    (pi / "etc/hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n")
    r = _install(pi)
    assert r.returncode == 0, r.stderr
    assert (pi / "etc/hostname").read_text() == "backline\n"
    assert (pi / "etc/hosts").read_text() == "127.0.0.1\tlocalhost\n127.0.1.1\tbackline\n"
    assert "the box is backline.local now (it was raspberrypi)" in r.stdout
    assert "backline.local" not in _install(pi).stdout            # once

    studio = tmp_path / "studio"
    (studio / "etc").mkdir(parents=True)
    (studio / "etc/hostname").write_text("studio\n")
    assert _install(studio).returncode == 0
    assert (studio / "etc/hostname").read_text() == "studio\n"
    assert _install(studio, "--hostname", "stage-left").returncode == 0
    assert (studio / "etc/hostname").read_text() == "stage-left\n"
    assert (studio / "etc/hosts").read_text() == "127.0.1.1\tstage-left\n"

    bad = _install(studio, "--hostname", "Stage_Left")
    assert bad.returncode == 2 and "--hostname Stage_Left" in bad.stderr
    assert (studio / "etc/hostname").read_text() == "stage-left\n"
