from __future__ import annotations

import pyotp

from regie.accounts import recovery, totp


def test_window_and_replay() -> None:
    secret = totp.new_secret()
    now = 1_800_000_000.0
    step = int(now // 30)
    code = pyotp.TOTP(secret).at(now)
    assert totp.matching_step(secret, code, 0, now) == step
    assert totp.matching_step(secret, code, step, now) is None  # already used
    assert totp.matching_step(secret, pyotp.TOTP(secret).at(now - 30), 0, now) == step - 1  # clock drift
    assert totp.matching_step(secret, pyotp.TOTP(secret).at(now - 90), 0, now) is None
    assert totp.matching_step(secret, "12345", 0, now) is None
    assert totp.matching_step(secret, code[:3] + " " + code[3:], 0, now) == step  # spaces allowed


def test_qr_is_inline_svg() -> None:
    svg = totp.qr_svg(totp.provisioning_uri(totp.new_secret(), "a@b.nl"))
    assert svg.startswith("<svg") and "<script" not in svg


def test_recovery_codes() -> None:
    codes = recovery.new_codes()
    assert len(codes) == len(set(codes)) == 10
    assert all(recovery.looks_like_recovery_code(c) for c in codes)
    assert recovery.code_hash(codes[0].upper().replace("-", " ")) == recovery.code_hash(codes[0])
