from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# The real SMTP (aiosmtpd) and IMAP (Dovecot) server fixtures: `smtp`, `dovecot`.
pytest_plugins = ["mailservers"]


def shared_dir() -> Path:
    """../shared beside the repository (the project's read-only reference material)."""
    return REPO.parent / "shared"


def require_shared() -> Path:
    path = shared_dir()
    if not path.is_dir():
        message = f"../shared not found at {path}: the official format text is needed for this test"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def fmt2021():
    from nianbao.format import load_format

    return load_format("gov-info-disclosure-2021")


@pytest.fixture(scope="session")
def fmt2019():
    from nianbao.format import load_format

    return load_format("gov-info-disclosure-2019")
