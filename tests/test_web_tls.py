"""`backline web` over TLS (issue 18): a certificate made here with openssl, the server as
its own process on loopback, a browser paired over https; bad certificate files refused
with the file named and exit 2; [web] tls_cert and tls_key read from config.toml."""
from __future__ import annotations

import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from appliance.config import load_config
from appliance.errors import BacklineError

from conftest import wait_for
from test_web import _answers, _free_port


def make_cert(folder: Path) -> tuple[Path, Path]:
    """A self-signed P-256 certificate for backline.local and 127.0.0.1, as install.sh
    --tls makes one."""
    cert, key = folder / "web.crt", folder / "web.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=backline.local",
                    "-addext", "subjectAltName=DNS:backline.local,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def _web(tmp_path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "appliance", "web", "--socket",
                             str(tmp_path / "no-daemon.sock"), "--state", str(tmp_path / "web"),
                             *args], stderr=subprocess.PIPE, text=True)


def test_paired_over_https_the_cookie_is_secure_and_https_origins_pass(tmp_path):
    cert, key = make_cert(tmp_path)
    port = _free_port()
    proc = _web(tmp_path, "--listen", f"127.0.0.1:{port}", "--tls-cert", str(cert),
                "--tls-key", str(key))
    try:
        line = proc.stderr.readline()
        assert "pairing code" in line, line
        code = line.split("pairing code ")[1].split()[0]
        base = f"https://127.0.0.1:{port}"
        with httpx.Client(base_url=base, verify=ssl.create_default_context(cafile=cert),
                          timeout=10) as http:
            assert wait_for(lambda: _answers(http), 20)
            r = http.post("/api/pair", json={"code": code}, headers={"Origin": base})
            assert r.status_code == 200, r.text
            cookie = r.headers["set-cookie"]
            assert "backline_token=" in cookie
            assert "secure" in [part.strip().lower() for part in cookie.split(";")]
            assert http.post("/api/logout", headers={"Origin": "https://elsewhere.example"}
                             ).status_code == 403
            assert http.post("/api/logout", headers={"Origin": base}).status_code == 200
        with pytest.raises(httpx.TransportError):      # plain HTTP gets no answer
            httpx.get(f"http://127.0.0.1:{port}/api/state", timeout=5)
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()


def test_a_missing_or_bad_certificate_file_is_named_and_exits_2(tmp_path):
    cert, key = make_cert(tmp_path)
    cases = {(str(tmp_path / "gone.crt"), str(key)): f"{tmp_path / 'gone.crt'}: No such file",
             (str(cert), str(tmp_path / "gone.key")): f"{tmp_path / 'gone.key'}: No such file",
             (str(key), str(key)): "not a PEM certificate and its key",
             (str(tmp_path), str(key)): f"{tmp_path}: Is a directory"}
    for (c, k), said in cases.items():
        r = subprocess.run([sys.executable, "-m", "appliance", "web", "--tls-cert", c,
                            "--tls-key", k, "--state", str(tmp_path / "web")],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, r.stderr
        assert said in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "appliance", "web", "--tls-cert", str(cert)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "TLS needs both --tls-cert and --tls-key" in r.stderr


def test_the_config_names_the_certificate_and_key_relative_to_itself(tmp_path):
    (tmp_path / "config.toml").write_text('[web]\ntls_cert = "web/c.pem"\ntls_key = "/k.pem"\n')
    config = load_config(tmp_path / "config.toml")
    assert (config.web_tls_cert, config.web_tls_key) == (tmp_path / "web/c.pem", Path("/k.pem"))
    assert load_config(None).web_tls_cert is None
    (tmp_path / "config.toml").write_text('[web]\ntls_cert = "c.pem"\n')
    with pytest.raises(BacklineError, match=r"web\.tls_key.*TLS needs both"):
        load_config(tmp_path / "config.toml")


def test_a_missing_file_named_in_the_config_exits_2(tmp_path):
    (tmp_path / "config.toml").write_text('[web]\ntls_cert = "c.pem"\ntls_key = "k.pem"\n')
    r = subprocess.run([sys.executable, "-m", "appliance", "web", "--config",
                        str(tmp_path / "config.toml"), "--state", str(tmp_path / "web")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and f"{tmp_path / 'c.pem'}: No such file" in r.stderr
