"""`regie sandbox --tls` prints the CA Regie must trust and serves https (uvicorn stubbed)."""

from __future__ import annotations

from typer.testing import CliRunner

import regie.cli.sandbox as cli
from regie.cli.main import app


def test_tls_prints_the_ca_and_starts_one_https_listener(tmp_path, monkeypatch):
    monkeypatch.setenv("REGIE_HOME", str(tmp_path))
    started = {}

    def fake_run_tls(asgi_app, host, port, tls_files):
        started.update(host=host, port=port, files=tls_files, app=asgi_app)

    monkeypatch.setattr(cli, "_run_tls", fake_run_tls)
    result = CliRunner().invoke(app, ["sandbox", "--tls", "--port", "8443"])
    assert result.exit_code == 0, result.output
    ca = tmp_path / "sandbox-ca.pem"
    assert f"REGIE_MEDMIJ_CA={ca}" in result.output
    assert "REGIE_MEDMIJ_LISTS_URL=https://127.0.0.1:8443" in result.output
    assert ca.read_bytes() == started["files"].ca_cert.read_bytes()
    assert started["port"] == 8443
    config = started["app"].state.config
    assert config.base_url == config.front_base_url == "https://sandbox.localhost:8443"
    assert "--issue-client-cert" in result.output
    # The back channel is guarded by mutual TLS; the app says so in its middleware.
    from regie.sandbox.mtls import MutualTlsGuard

    assert any(m.cls is MutualTlsGuard for m in started["app"].user_middleware)
