"""``quotaplan token``: bearer tokens for the HTTP API, kept in its database."""

from __future__ import annotations

import click

from .options import database_option, open_store


def _expiry(text: str | None):
    """``90d``, ``12h`` or a date/time (ISO 8601) -> an aware UTC datetime; None: never."""
    from datetime import UTC, datetime, timedelta

    if text is None:
        return None
    units = {"d": "days", "h": "hours", "w": "weeks"}
    if text[-1:].lower() in units and text[:-1].isdigit():
        return datetime.now(UTC) + timedelta(**{units[text[-1].lower()]: int(text[:-1])})
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"write the expiry as a duration (90d, 12h, 4w) or a date (2027-01-31), not {text!r}"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


@click.group(short_help="Make, list and revoke bearer tokens for the HTTP API.")
def token() -> None:
    """Bearer tokens, kept in the API's database (only their SHA-256): reps read their own
    quota, viewers read, planners write, approvers approve at their level. Changes take effect
    on the next request, without restarting the server."""


@token.command("new")
@click.option("--role", type=click.Choice(["rep", "viewer", "planner", "approver"]), required=True)
@click.option(
    "--name", required=True, help="Who holds the token (one word; a rep's token: their rep_id)."
)
@click.option(
    "--scope",
    default=None,
    help="An approver's level: team:<team>, region:<region> or company.",
)
@click.option("--expires", default=None, help="Expiry: a duration (90d, 12h) or a date.")
@database_option
def token_new(role, name, scope, expires, database):
    """Store a new token and print it once (give it to its holder; only its hash is kept). A
    rep sees only their own quota and its explanation; viewers read; planners draft and
    adjust; approvers approve at their level."""
    from api.auth import digest, new_token

    try:
        secret, _ = new_token(role, name, scope)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    when = _expiry(expires)
    store = open_store(database)
    store.add_token(name=name, role=role, scope=scope, digest=digest(secret), expires_at=when)
    click.echo(f"token for {name} ({role}{', ' + scope if scope else ''}), shown once: {secret}")
    click.echo(
        f"stored in {store.url}; expires {when.isoformat() if when else 'never'}; "
        "`quotaplan token revoke " + name + "` withdraws it"
    )


@token.command("list")
@database_option
def token_list(database):
    """Every token: name, role, scope, status, when made, expiry and last use (never the
    secret; last use is noted at most once a minute)."""
    click.echo(token_table(open_store(database).tokens()))


def token_table(tokens) -> str:
    """Every token: name, role, scope, status, when made, expiry and last use (never the
    secret)."""
    from tabulate import tabulate

    def when(t):
        return t.strftime("%Y-%m-%d %H:%M UTC") if t else "-"

    rows = [
        [t.name, t.role, t.scope or "-", t.status(), when(t.created_at), when(t.expires_at),
         when(t.last_used_at), t.source]
        for t in tokens
    ]  # fmt: skip
    if not rows:
        return "no tokens: the API is open (localhost only); make one with quotaplan token new"
    headers = ["name", "role", "scope", "status", "created", "expires", "last used", "source"]
    return tabulate(rows, headers=headers)


@token.command("revoke")
@click.argument("name")
@database_option
def token_revoke(name, database):
    """Revoke every active token of NAME (effective on the next request; the rows stay listed)."""
    n = open_store(database).revoke_token(name)
    if not n:
        raise click.ClickException(f"no active token named {name!r} (quotaplan token list)")
    click.echo(f"revoked {n} token(s) of {name}")
