"""The command line: migrate, create a business, seed the demo (twice, without duplicates)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest


def _cli(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal_gateway.cli", *args],
        env={"PORTAL_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    db = tmp_path_factory.mktemp("cli") / "demo.db"
    _cli("db", "upgrade", db=db)
    first = json.loads(_cli("demo", "seed", "--json", db=db).stdout)
    return db, first


def test_seed_json_names_the_demo_email_and_a_key_per_business(
    seeded: tuple[Path, dict[str, object]],
) -> None:
    _, first = seeded
    assert first["demoEmail"] == "dana.demo@example.com"
    businesses = first["businesses"]
    assert isinstance(businesses, list)
    assert len(businesses) >= 4
    assert all(b["apiKey"].startswith("sk_test_") and b["id"] and b["name"] for b in businesses)


def test_seeding_twice_adds_keys_not_data(seeded: tuple[Path, dict[str, object]]) -> None:
    import sqlite3

    db, first = seeded
    counts_before = _counts(sqlite3.connect(db))
    second = json.loads(_cli("demo", "seed", "--json", db=db).stdout)
    counts_after = _counts(sqlite3.connect(db))
    assert [b["id"] for b in second["businesses"]] == [b["id"] for b in first["businesses"]]  # type: ignore[union-attr]
    assert [b["apiKey"] for b in second["businesses"]] != [b["apiKey"] for b in first["businesses"]]  # type: ignore[union-attr]
    assert {k: v for k, v in counts_after.items() if k != "api_keys"} == {
        k: v for k, v in counts_before.items() if k != "api_keys"
    }
    assert counts_after["api_keys"] == counts_before["api_keys"] + 4


def _counts(connection: object) -> dict[str, int]:
    import sqlite3

    assert isinstance(connection, sqlite3.Connection)
    tables = [
        "businesses",
        "customer_accounts",
        "subscriptions",
        "invoices",
        "payments",
        "api_keys",
    ]
    return {t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def test_demo_covers_currencies_states_and_three_businesses(
    seeded: tuple[Path, dict[str, object]],
) -> None:
    import sqlite3

    db, _ = seeded
    connection = sqlite3.connect(db)
    currencies = {row[0] for row in connection.execute("SELECT DISTINCT currency FROM products")}
    assert {"USD", "EUR", "JPY", "KWD"} <= currencies
    demo = "dana.demo@example.com"
    businesses = connection.execute(
        "SELECT count(DISTINCT business_id) FROM customer_accounts WHERE email_normalized = ?",
        (demo,),
    ).fetchone()[0]
    assert businesses >= 3
    states = connection.execute(
        "SELECT s.status, s.cancel_at_period_end, s.dues_minor FROM subscriptions s "
        "JOIN customer_accounts a ON a.id = s.account_id WHERE a.email_normalized = ?",
        (demo,),
    ).fetchall()
    assert {"ACTIVE", "ON_HOLD", "CANCELLED"} <= {state for state, _, _ in states}
    assert any(cancel for _, cancel, _ in states)
    assert all(dues > 0 for state, _, dues in states if state == "ON_HOLD")
    assert connection.execute("SELECT count(*) FROM license_keys").fetchone()[0] > 0


def test_business_create_prints_a_key_once(tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    _cli("db", "upgrade", db=db)
    out = _cli("business", "create", "--name", "New Shop", db=db).stdout
    assert "New Shop" in out
    assert "sk_test_" in out


def test_invite_prints_the_static_link_and_a_fresh_one_time_link(
    seeded: tuple[Path, dict[str, object]],
) -> None:
    db, first = seeded
    business = first["businesses"][0]  # type: ignore[index]
    out = _cli("invite", "--business", business["id"], "--email", "DANA.demo@example.com", db=db)
    lines = out.stdout
    assert "/portal/login/test_" in lines
    assert lines.count("/portal/link?token=") == 1
    missing = subprocess.run(
        [sys.executable, "-m", "portal_gateway.cli", "invite", "--business", business["id"],
         "--email", "nobody@example.com"],
        env={"PORTAL_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert missing.returncode == 1
    assert "no customer" in missing.stderr


def test_outbox_drain_delivers_to_the_configured_backend(
    seeded: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    import sqlite3
    import uuid

    db, _ = seeded
    connection = sqlite3.connect(db)
    connection.execute(
        "INSERT INTO outbox_messages (id, channel, kind, recipient, message_id, payload, status, "
        "attempts, next_attempt_at, created_at) VALUES (?, 'email', 'sign_in_request', ?, ?, ?, "
        "'PENDING', 0, '2000-01-01 00:00:00', '2000-01-01 00:00:00')",
        (
            uuid.uuid4().hex,
            "dana.demo@example.com",
            f"<{uuid.uuid4().hex}@test>",
            '{"email": "dana.demo@example.com", "business_id": null}',
        ),
    )
    connection.commit()
    mail = tmp_path / "mail"
    out = subprocess.run(
        [sys.executable, "-m", "portal_gateway.cli", "outbox", "drain"],
        env={"PORTAL_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "PATH": "/usr/bin:/bin",
             "PORTAL_EMAIL_BACKEND": "file", "PORTAL_EMAIL_DIR": str(mail)},
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert "delivered" in out.stdout
    # The sign-in link, and the seed's own mail: the on-hold notice of its declined renewal.
    bodies = [eml.read_bytes() for eml in mail.glob("*.eml")]
    assert len(bodies) == 2
    assert all(b"/portal/link?token=" in body for body in bodies)


def test_links_follow_where_serve_listens_unless_a_public_url_is_set() -> None:
    from portal_gateway.config import Settings

    assert Settings(port=8123).public_url == "http://127.0.0.1:8123"
    assert Settings(host="0.0.0.0", port=9000).public_url == "http://127.0.0.1:9000"  # noqa: S104
    assert Settings(host="::1", port=9000).public_url == "http://[::1]:9000"
    behind_proxy = Settings(port=8123, public_url="https://billing.example/")
    assert behind_proxy.public_url == "https://billing.example"


def test_business_create_refuses_a_website_or_support_email_it_would_not_take_later(
    tmp_path: Path,
) -> None:
    db = tmp_path / "c.db"
    _cli("db", "upgrade", db=db)
    for flag, value in (("--website-url", "javascript:alert(1)//"),
                        ("--support-email", "not an address")):  # fmt: skip
        refused = subprocess.run(
            [sys.executable, "-m", "portal_gateway.cli", "business", "create", "--name", "Shop",
             flag, value],
            env={"PORTAL_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.startswith("error: "), refused.stderr
        assert "Traceback" not in refused.stderr


def _serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal_gateway.cli", "serve"],
        env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip


def test_serve_names_every_unsafe_setting_at_once_without_a_traceback(tmp_path: Path) -> None:
    public = "portal-gateway-development-secret-not-for-live-use"  # the development value
    refused = _serve({
        "PORTAL_MODE": "live",
        "PORTAL_SECRET_KEY": public,
        "PORTAL_JWT_KEYS": json.dumps({"old": public, "short": "x" * 31}),
        "PORTAL_CORS_ORIGINS": "*",
        "PORTAL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
    })  # fmt: skip
    assert refused.returncode == 2
    assert "Traceback" not in refused.stderr
    named = ("PORTAL_CORS_ORIGINS", "PORTAL_JWT_KEYS['short']", "PORTAL_SECRET_KEY",
             "PORTAL_PUBLIC_URL", "PORTAL_PAYMENT_PROCESSOR", "PORTAL_EMAIL_BACKEND")  # fmt: skip
    for setting in named:
        assert setting in refused.stderr, (setting, refused.stderr)
    test_mode = _serve({"PORTAL_CORS_ORIGINS": "*"})
    assert test_mode.returncode == 2
    assert "PORTAL_CORS_ORIGINS" in test_mode.stderr


def test_a_development_signing_key_is_refused_in_live_mode() -> None:
    from pydantic import ValidationError

    from portal_gateway.config import Settings

    public = "portal-gateway-development-secret-not-for-live-use"
    live = {"mode": "live", "secret_key": "s" * 40, "public_url": "https://portal.example",
            "payment_processor": "test", "email_backend": "smtp",
            "document_keys": json.dumps({"d": "d" * 40})}  # fmt: skip
    Settings(**live, jwt_keys=json.dumps({"k": "k" * 40}))  # a usable set
    for keys in ({"k": public}, {"k": "k" * 40, "old": public}, {"k": "ü" * 15}):
        with pytest.raises(ValidationError, match="PORTAL_JWT_KEYS"):
            Settings(**live, jwt_keys=json.dumps(keys))


def test_serve_refuses_a_database_that_is_not_migrated(tmp_path: Path) -> None:
    refused = _serve({"PORTAL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"})
    assert refused.returncode == 2
    assert "not migrated" in refused.stderr and "db upgrade" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_serve_says_in_one_line_when_the_database_cannot_be_read() -> None:
    refused = _serve({"PORTAL_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/x"})
    assert refused.returncode == 2
    assert "cannot read the database" in refused.stderr and "Traceback" not in refused.stderr


def test_keys_and_origins_that_only_look_safe_are_refused() -> None:
    from pydantic import ValidationError

    from portal_gateway.config import Settings

    live = {"mode": "live", "secret_key": "s" * 40, "public_url": "https://portal.example",
            "payment_processor": "test", "email_backend": "smtp",
            "document_keys": json.dumps({"d": "d" * 40})}  # fmt: skip
    for unsafe in (
        {"jwt_keys": json.dumps({"k": "s" * 40})},  # the secret key again: no separation
        {"jwt_keys": json.dumps({"k": " " * 40})},  # white space is no secret
        {"jwt_keys": json.dumps({"k": "k" * 40}), "cors_origins": "http://app.example"},
    ):
        with pytest.raises(ValidationError):
            Settings(**live, **unsafe)
    with pytest.raises(ValidationError, match="null"):
        Settings(cors_origins="null")  # what sandboxed frames and local files send


def test_the_demo_on_hold_subscription_is_what_a_declined_renewal_leaves(
    seeded: tuple[Path, dict[str, object]],
) -> None:
    import sqlite3

    db, _ = seeded
    connection = sqlite3.connect(db)
    ((subscription, dues, currency),) = connection.execute(
        "SELECT id, dues_minor, currency FROM subscriptions WHERE status = 'ON_HOLD'"
    ).fetchall()
    assert (dues, currency) == (1428, "EUR")  # Plus, 12.00 EUR and 19 % tax
    # A FAILED payment for the dues, and no invoice that would make them look owed twice.
    failed = connection.execute(
        "SELECT amount_minor, invoice_id, failure_code FROM payments "
        "WHERE subscription_id = ? AND status = 'FAILED'",
        (subscription,),
    ).fetchall()
    assert failed == [(1428, None, "insufficient_funds")]
    assert connection.execute("SELECT count(*) FROM invoices WHERE status = 'OPEN'").fetchone() == (
        0,
    )
    (last4,) = connection.execute(
        "SELECT m.last4 FROM payment_methods m JOIN subscriptions s "
        "ON s.payment_method_id = m.id WHERE s.id = ?",
        (subscription,),
    ).fetchone()
    assert last4 == "9995"  # the card that declines, for trying the update


def test_billing_renew_moves_the_clock_in_test_mode_only(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "renew.db"
    _cli("db", "upgrade", db=db)
    _cli("demo", "seed", db=db)
    now = _cli("billing", "renew", db=db)
    assert now.stdout.strip() == "renewals: nothing due"
    # Two months on: every ACTIVE subscription's period ended at least once.
    moment = (datetime.now(UTC) + timedelta(days=62)).isoformat()
    later = _cli("billing", "renew", "--now", moment, db=db)
    assert "renewed" in later.stdout and "1 cancelled" in later.stdout, later.stdout
    connection = sqlite3.connect(db)
    statuses = dict(
        connection.execute("SELECT status, count(*) FROM subscriptions GROUP BY status").fetchall()
    )
    assert statuses.get("ON_HOLD") == 1  # on hold is not renewed: it waits for a card
    again = _cli("billing", "renew", "--now", moment, db=db)
    assert again.stdout.strip() == "renewals: nothing due"  # each period charged once
    live = {
        "PORTAL_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "PATH": "/usr/bin:/bin",
        "PORTAL_MODE": "live", "PORTAL_SECRET_KEY": "s" * 40,
        "PORTAL_JWT_KEYS": '{"k1": "' + "k" * 40 + '"}', "PORTAL_PUBLIC_URL": "https://p.example",
        "PORTAL_DOCUMENT_KEYS": '{"d1": "' + "d" * 40 + '"}',
        "PORTAL_PAYMENT_PROCESSOR": "test", "PORTAL_EMAIL_BACKEND": "file",
        "PORTAL_EMAIL_DIR": str(tmp_path / "mail"),
    }  # fmt: skip
    refused = subprocess.run(
        [sys.executable, "-m", "portal_gateway.cli", "billing", "renew", "--now", moment],
        env=live, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert "test mode only" in refused.stderr
