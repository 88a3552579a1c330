"""Staff accounts from the command line.

    python -m bot.web.dashboard.users create --role admin --email alex@clinic.example --name "Alex"
    python -m bot.web.dashboard.users list
    python -m bot.web.dashboard.users set-password --email alex@clinic.example   (also unlocks)
    python -m bot.web.dashboard.users create --role clinician --email sam@clinic.example --no-password
        (signs in through the clinic's identity provider only)
    python -m bot.web.dashboard.users token --email alex@clinic.example --name "on-call pager"
        (a personal staff API token, printed once)

The password is read from `STAFF_PASSWORD` or asked for twice (not echoed). Uses `DATABASE_URL`;
run `make migrate` first.
"""
from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy.exc import IntegrityError

from bot.settings import get_settings
from bot.store.staff_models import ROLES
from bot.store.staff_repository import StaffStore
from bot.web.dashboard.security import NO_PASSWORD, hash_password, password_problem


def read_password() -> str:
    password = get_settings().value("STAFF_PASSWORD")
    if password:
        return password
    first = getpass.getpass("Password (at least 12 characters): ")
    if getpass.getpass("Again: ") != first:
        raise SystemExit("The passwords differ.")
    return first


def main(argv: list[str] | None = None, store: StaffStore | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.web.dashboard.users", description="Staff accounts.")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="add a staff user")
    create.add_argument("--email", required=True)
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--name", help="shown to the person when this user replies (default: the e-mail)")
    create.add_argument("--no-password", action="store_true",
                        help="no password: the user signs in through the identity provider (STAFF_OIDC_ISSUER) only")
    token = commands.add_parser("token", help="make a personal staff API token for a user (printed once)")
    token.add_argument("--email", required=True)
    token.add_argument("--name", required=True, help="what the token is for")
    commands.add_parser("list", help="list staff users")
    reset = commands.add_parser("set-password", help="set a new password (also unlocks the account)")
    reset.add_argument("--email", required=True)
    args = parser.parse_args(argv)
    store = store or StaffStore()

    if args.command == "list":
        for user in store.list_users():
            print(f"{user.email}\t{user.role}\t{'active' if user.active else 'deactivated'}\t{user.name}")
        return 0
    if args.command == "token":
        found = store.user_by_email(args.email)
        if found is None or not found[0].active:
            print(f"No active user {args.email}.", file=sys.stderr)
            return 1
        record, secret = store.create_api_token(found[0].id, args.name)
        store.audit("api_token_create", None, found[0].email, {"token": record.id, "name": record.name, "via": "cli"},
                    email="cli")
        print(secret)
        return 0
    if args.command == "create" and args.no_password:
        try:
            user = store.create_user(args.email, args.name or args.email, args.role, NO_PASSWORD)
        except IntegrityError:
            print(f"A user with the e-mail address {args.email} exists already.", file=sys.stderr)
            return 1
        store.audit("user_create", None, user.email, {"role": user.role, "via": "cli"}, email="cli")
        print(f"Created {user.role} {user.email} (no password: signs in through the identity provider).")
        return 0
    password = read_password()
    problem = password_problem(password)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    if args.command == "create":
        try:
            user = store.create_user(args.email, args.name or args.email, args.role, hash_password(password))
        except IntegrityError:
            print(f"A user with the e-mail address {args.email} exists already.", file=sys.stderr)
            return 1
        store.audit("user_create", None, user.email, {"role": user.role, "via": "cli"}, email="cli")
        print(f"Created {user.role} {user.email}.")
        return 0
    found = store.user_by_email(args.email)
    if found is None:
        print(f"No user {args.email}.", file=sys.stderr)
        return 1
    store.update_user(found[0].id, password_hash=hash_password(password), unlock=True)
    store.audit("user_password", None, found[0].email, {"via": "cli"}, email="cli")
    print(f"New password set for {found[0].email}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
