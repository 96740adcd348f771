#!/usr/bin/env python3
"""Validate compose.yaml without a Docker engine.

    scripts/check-compose.py [SCHEMA]           check compose.yaml, exit 0 when it is fine
    scripts/check-compose.py --self-test [SCHEMA]
                                                prove the checks can fail: break in-memory
                                                copies of compose.yaml and expect each caught

SCHEMA defaults to config/compose-spec.schema.json: the Compose Specification's JSON schema
(compose-spec/compose-spec, Apache-2.0), kept in the repository so the check needs nothing beside it. Besides the Compose spec schema, compose.yaml must
follow the project's rules:

  * every executable product in Package.swift is the command of a service
    (contexo-migrate of the `migrate` service);
  * only `gateway` publishes ports;
  * every service built from the Dockerfile has a healthcheck, except the one-shot `migrate`,
    and an HTTP service's healthcheck calls /readyz on its own CONTEXO_HTTP_PORT;
  * every depends_on entry names an existing service and carries a condition that the target
    can satisfy (service_healthy needs a healthcheck, service_completed_successfully a one-shot);
  * no literal secrets: values of *SECRET*/*PASSWORD*/*API_KEY*/*PRIVATE_KEY* variables, and the
    password in any *_URL variable, are ${VAR} references without a literal default;
  * the Postgres superuser password reaches only `postgres` and `migrate`, and no service loads
    .env (it holds every secret) through env_file;
  * every variable compose.yaml references is documented in .env.example.

Every failure is listed; the exit status is 1 when there is any, 2 on a usage error.
Needs PyYAML and jsonschema.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

try:
    import jsonschema
    import yaml
except ImportError as missing:
    sys.exit(f"check-compose: {missing.name} is not installed: "
             f"apt-get install python3-yaml python3-jsonschema (or pip install pyyaml jsonschema)")

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SCHEMA = REPO / "config" / "compose-spec.schema.json"

# Executables that must be run by one specific service (the rest only need *some* service).
REQUIRED_RUNNER = {"contexo-migrate": "migrate"}
# Services expected to publish ports to the host.
PUBLISHING_SERVICES = {"gateway"}
# One-shot services: they exit when done, so they have no healthcheck to report.
ONE_SHOT_SERVICES = {"migrate"}
# Services allowed to hold the Postgres superuser password.
ADMIN_SERVICES = {"postgres", "migrate"}

SECRET_KEY = re.compile(r"SECRET|PASSWORD|API_KEY|PRIVATE_KEY|SIGNING_KEY")
VAR_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}")
# A reference that can never expand to a literal written in this file: ${VAR}, ${VAR?msg},
# ${VAR:?msg}. Defaults (${VAR:-x}, ${VAR-x}) would put the secret itself in compose.yaml.
SAFE_SECRET_REF = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?\?[^}]*)?\}")
URL_USERINFO = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://(?P<userinfo>[^/?#@]*)@")
EXECUTABLE_PRODUCT = re.compile(r"\.executable\(\s*name:\s*\"([^\"]+)\"")


@dataclass
class Project:
    """What the compose file is checked against, read from the repository."""

    executables: list[str]
    env_example: set[str] | None  # variable names documented in .env.example, None if missing


# --------------------------------------------------------------------------------------- loading


def load_compose(path: Path) -> dict:
    text = path.read_text()
    # PyYAML keeps the last of duplicate keys silently; Compose rejects the file. Catch it here,
    # on the node graph, before merge keys (<<) make legitimate overrides look like duplicates.
    duplicates = _duplicate_keys(yaml.compose(text, Loader=yaml.SafeLoader))
    if duplicates:
        raise ValueError("duplicate keys: " + "; ".join(duplicates))
    doc = yaml.safe_load(text)
    if not isinstance(doc, dict):
        raise ValueError("top level is not a mapping")
    return doc


def _duplicate_keys(root: yaml.Node | None) -> list[str]:
    found, seen_nodes, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys = set()
            for key, value in node.value:
                if key.tag != "tag:yaml.org,2002:merge" and isinstance(key, yaml.ScalarNode):
                    if key.value in keys:
                        found.append(f"{key.value!r} at line {key.start_mark.line + 1}")
                    keys.add(key.value)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return found


def load_project(repo: Path) -> Project:
    manifest = (repo / "Package.swift").read_text()
    example = repo / ".env.example"
    documented = None
    if example.exists():
        documented = {
            m.group(1)
            for m in re.finditer(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=", example.read_text(), re.M)
        }
    return Project(executables=EXECUTABLE_PRODUCT.findall(manifest), env_example=documented)


# ---------------------------------------------------------------------------------------- checks


def check(doc: dict, schema: dict, project: Project) -> list[str]:
    """Every rule compose.yaml breaks, as one human-readable line each."""
    failures = check_schema(doc, schema)
    services = doc.get("services")
    if not isinstance(services, dict) or not services:
        return failures + ["no services defined"]
    services = {name: (svc if isinstance(svc, dict) else {}) for name, svc in services.items()}
    for rule in (check_executables, check_ports, check_healthchecks, check_depends_on,
                 check_secrets, check_admin_isolation):
        failures += rule(services, project)
    failures += check_env_documented(doc, project)
    return failures


def check_schema(doc: dict, schema: dict) -> list[str]:
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    errors = sorted(cls(schema).iter_errors(doc), key=lambda e: list(e.absolute_path))
    return [f"schema: {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors]


def check_executables(services: dict, project: Project) -> list[str]:
    if not project.executables:
        return ["Package.swift: no .executable(name: ...) products found (did the manifest change shape?)"]
    runners: dict[str, list[str]] = {}
    for name, svc in services.items():
        exe = _command_executable(svc.get("command"))
        if exe:
            runners.setdefault(exe, []).append(name)
    failures = []
    for exe in project.executables:
        if exe not in runners:
            failures.append(f"executable {exe} (Package.swift) is not the command of any service")
        elif exe in REQUIRED_RUNNER and REQUIRED_RUNNER[exe] not in runners[exe]:
            failures.append(f"executable {exe} must be the command of service {REQUIRED_RUNNER[exe]!r}, "
                            f"found in {runners[exe]}")
    for exe, service in REQUIRED_RUNNER.items():
        if exe in project.executables and service not in services:
            failures.append(f"service {service!r} (runs {exe}) is missing")
    return failures


def check_ports(services: dict, project: Project) -> list[str]:
    failures = []
    for name, svc in services.items():
        if svc.get("ports") and name not in PUBLISHING_SERVICES:
            failures.append(f"service {name!r} publishes ports {svc['ports']}: only "
                            f"{sorted(PUBLISHING_SERVICES)} may (internal ports stay on the compose network)")
    for name in PUBLISHING_SERVICES:
        if name in services and not services[name].get("ports"):
            failures.append(f"service {name!r} publishes no port, so the stack is unreachable")
    return failures


def check_healthchecks(services: dict, project: Project) -> list[str]:
    failures = []
    for name, svc in services.items():
        if "build" not in svc or name in ONE_SHOT_SERVICES:
            continue
        if not _has_healthcheck(svc):
            failures.append(f"service {name!r} is built from the Dockerfile but has no healthcheck")
            continue
        port = _environment(svc).get("CONTEXO_HTTP_PORT")
        if port is not None:
            test = _healthcheck_text(svc)
            if not re.search(rf":{re.escape(str(port))}/readyz\b", test):
                failures.append(f"service {name!r} healthcheck does not call /readyz on its own port "
                                f"{port}: {test}")
    return failures


def check_depends_on(services: dict, project: Project) -> list[str]:
    failures = []
    for name, svc in services.items():
        deps = svc.get("depends_on")
        if deps is None:
            continue
        if isinstance(deps, list):
            failures.append(f"service {name!r} depends_on is a plain list {deps}: give every "
                            f"dependency a condition")
            continue
        for dep, spec in deps.items():
            condition = spec.get("condition") if isinstance(spec, dict) else None
            if not condition:
                failures.append(f"service {name!r} depends_on {dep!r} without a condition")
            if dep not in services:
                failures.append(f"service {name!r} depends_on {dep!r}, which is not defined")
                continue
            target = services[dep]
            if condition == "service_healthy" and not _has_healthcheck(target):
                failures.append(f"service {name!r} waits for {dep!r} to be healthy, "
                                f"but {dep!r} has no healthcheck")
            if condition == "service_completed_successfully" and target.get("restart", "no") != "no":
                failures.append(f"service {name!r} waits for {dep!r} to complete, "
                                f"but {dep!r} restarts ({target.get('restart')!r}); use restart: \"no\"")
    return failures


def check_secrets(services: dict, project: Project) -> list[str]:
    failures = []
    for name, svc in services.items():
        for key, value in _environment(svc).items():
            if value is None:  # `KEY:` with no value passes the variable through from the shell
                continue
            value = str(value)
            if SECRET_KEY.search(key) and not SAFE_SECRET_REF.fullmatch(value):
                failures.append(f"service {name!r}: {key} must be a ${{VAR}} or ${{VAR:?message}} "
                                f"reference, not a literal or a reference with a literal default")
            elif "_URL" in key:
                password = _url_password(value)
                if password is not None and not SAFE_SECRET_REF.fullmatch(password):
                    failures.append(f"service {name!r}: the password in {key} must be a "
                                    f"${{VAR:?message}} reference, not a literal")
    return failures


def check_admin_isolation(services: dict, project: Project) -> list[str]:
    failures = []
    for name, svc in services.items():
        for entry in _env_files(svc):
            if Path(entry).name == ".env":
                failures.append(f"service {name!r} loads .env via env_file: that hands it every "
                                f"secret, including the Postgres superuser password")
    admin_password = _environment(services.get("postgres", {})).get("POSTGRES_PASSWORD")
    admin_vars = {m.group(1) for m in VAR_REF.finditer(str(admin_password or ""))}
    for name, svc in services.items():
        if name in ADMIN_SERVICES:
            continue
        for key, value in _environment(svc).items():
            leaked = admin_vars & {m.group(1) for m in VAR_REF.finditer(str(value or ""))}
            if leaked:
                failures.append(f"service {name!r}: {key} carries the Postgres superuser password "
                                f"({', '.join(sorted(leaked))}); only {sorted(ADMIN_SERVICES)} may")
    return failures


def check_env_documented(doc: dict, project: Project) -> list[str]:
    referenced = {m.group(1) for text in _strings(doc) for m in VAR_REF.finditer(text.replace("$$", ""))}
    if project.env_example is None:
        return [".env.example is missing: it must document " + ", ".join(sorted(referenced))]
    missing = sorted(referenced - project.env_example)
    return [f".env.example does not document {var}" for var in missing]


# --------------------------------------------------------------------------------------- helpers


def _command_executable(command) -> str | None:
    if isinstance(command, str):
        parts = shlex.split(command)
    elif isinstance(command, list):
        parts = [str(p) for p in command]
    else:
        return None
    return Path(parts[0]).name if parts else None


def _environment(svc: dict) -> dict:
    env = svc.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) for item in env)
        return {p[0]: (p[1] if len(p) == 2 else None) for p in pairs}
    return env if isinstance(env, dict) else {}


def _env_files(svc: dict) -> list[str]:
    entries = svc.get("env_file") or []
    if isinstance(entries, str):
        entries = [entries]
    return [e.get("path", "") if isinstance(e, dict) else str(e) for e in entries]


def _has_healthcheck(svc: dict) -> bool:
    hc = svc.get("healthcheck")
    if not isinstance(hc, dict) or hc.get("disable") in (True, "true"):
        return False
    test = hc.get("test")
    return bool(test) and test != ["NONE"]


def _healthcheck_text(svc: dict) -> str:
    test = svc["healthcheck"].get("test")
    return " ".join(map(str, test)) if isinstance(test, list) else str(test)


def _url_password(url: str) -> str | None:
    """The password part of scheme://user:password@host, or None when there is none."""
    # Hide ${...} references first: their messages may contain ':', '@' or '/'.
    refs: list[str] = []

    def hide(m: re.Match) -> str:
        refs.append(m.group(0))
        return f"\0{len(refs) - 1}\0"

    masked = VAR_REF.sub(hide, url.replace("$$", "\1"))
    m = URL_USERINFO.match(masked)
    if not m or ":" not in m.group("userinfo"):
        return None
    password = m.group("userinfo").split(":", 1)[1]
    return re.sub(r"\0(\d+)\0", lambda r: refs[int(r.group(1))], password).replace("\1", "$$")


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


# ------------------------------------------------------------------------------------- self-test


def _mutations():
    """(description, mutate(doc), pattern a failure line must match)."""

    def publish_chat(doc):
        doc["services"]["chat"]["ports"] = ["8081:8081"]

    def remove_migrate(doc):
        del doc["services"]["migrate"]

    def literal_url_password(doc):
        doc["services"]["chat"]["environment"]["CONTEXO_DATABASE_URL"] = (
            "postgres://contexo_chat:hunter2-not-a-reference@postgres:5432/contexo")

    def literal_secret(doc):
        doc["services"]["billing"]["environment"]["CONTEXO_INTERNAL_TOKEN_SECRET"] = "x" * 40

    def secret_with_default(doc):
        doc["services"]["gateway"]["environment"]["CONTEXO_JWT_SECRET"] = "${CONTEXO_JWT_SECRET:-dev-secret}"

    def literal_password_in_list_env(doc):
        env = doc["services"]["postgres"]["environment"]
        doc["services"]["postgres"]["environment"] = [f"{k}={v}" for k, v in env.items()
                                                      if k != "POSTGRES_PASSWORD"]
        doc["services"]["postgres"]["environment"].append("POSTGRES_PASSWORD=postgres")

    def drop_healthcheck(doc):
        del doc["services"]["ingest"]["healthcheck"]

    def wrong_healthcheck_port(doc):
        doc["services"]["billing"]["healthcheck"]["test"] = ["CMD", "curl", "-f", "http://127.0.0.1:8080/readyz"]

    def depends_on_list(doc):
        doc["services"]["chat"]["depends_on"] = ["postgres", "redis", "migrate"]

    def depends_on_without_condition(doc):
        doc["services"]["ingest"]["depends_on"]["redis"] = {"restart": True}

    def migrate_not_one_shot(doc):
        doc["services"]["migrate"]["restart"] = "always"

    def unused_executable(doc):
        doc["services"]["billing"]["command"] = ["contexo-chat"]

    def admin_password_leak(doc):
        doc["services"]["chat"]["environment"]["CONTEXO_ADMIN_DATABASE_URL"] = (
            doc["services"]["migrate"]["environment"]["CONTEXO_ADMIN_DATABASE_URL"])

    def env_file_dotenv(doc):
        doc["services"]["gateway"]["env_file"] = [".env"]

    def undocumented_variable(doc):
        doc["services"]["gateway"]["environment"]["CONTEXO_NEW_THING"] = "${CONTEXO_UNDOCUMENTED_VAR:-x}"

    def schema_violation(doc):
        doc["services"]["redis"]["restart"] = False  # what an unquoted `restart: no` loads as

    return [
        ("publish a port on chat", publish_chat, r"'chat' publishes ports"),
        ("remove migrate", remove_migrate, r"contexo-migrate .*not the command"),
        ("literal password in a database URL", literal_url_password, r"password in CONTEXO_DATABASE_URL"),
        ("literal internal token secret", literal_secret, r"'billing': CONTEXO_INTERNAL_TOKEN_SECRET must be"),
        ("secret with a literal default", secret_with_default, r"'gateway': CONTEXO_JWT_SECRET must be"),
        ("literal password in list-form environment", literal_password_in_list_env,
         r"'postgres': POSTGRES_PASSWORD must be"),
        ("drop ingest's healthcheck", drop_healthcheck, r"'ingest' is built from the Dockerfile but has no healthcheck"),
        ("healthcheck on another service's port", wrong_healthcheck_port, r"'billing' healthcheck does not call /readyz"),
        ("depends_on as a plain list", depends_on_list, r"'chat' depends_on is a plain list"),
        ("depends_on entry without condition", depends_on_without_condition, r"'ingest' depends_on 'redis' without a condition"),
        ("migrate restarts", migrate_not_one_shot, r"waits for 'migrate' to complete"),
        ("an executable no service runs", unused_executable, r"contexo-billing .*not the command"),
        ("superuser password given to chat", admin_password_leak, r"'chat': CONTEXO_ADMIN_DATABASE_URL carries"),
        ("env_file .env", env_file_dotenv, r"'gateway' loads \.env"),
        ("variable missing from .env.example", undocumented_variable, r"does not document CONTEXO_UNDOCUMENTED_VAR"),
        ("schema violation", schema_violation, r"^schema: services/redis/restart"),
    ]


def _tree_copy(node):
    """A copy in which nothing is shared. YAML aliases (`depends_on: *contexo-depends-on`) load
    as one object used by several services, and copy.deepcopy would keep that sharing, so a
    mutation aimed at one service would silently hit all of them."""
    if isinstance(node, dict):
        return {key: _tree_copy(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_tree_copy(item) for item in node]
    return node


def self_test(doc: dict, schema: dict, project: Project) -> int:
    baseline = check(doc, schema, project)
    if baseline:
        print("self-test: compose.yaml itself must pass first:", file=sys.stderr)
        for failure in baseline:
            print(f"  - {failure}", file=sys.stderr)
        return 1
    missed = []
    for description, mutate, expected in _mutations():
        mutated = _tree_copy(doc)
        mutate(mutated)
        failures = check(mutated, schema, project)
        if any(re.search(expected, f) for f in failures):
            print(f"self-test: caught   {description}")
        else:
            missed.append(description)
            print(f"self-test: MISSED   {description} (expected /{expected}/, got {failures})", file=sys.stderr)
    if missed:
        print(f"self-test: {len(missed)} mutation(s) not caught", file=sys.stderr)
        return 1
    print(f"self-test: ok ({len(_mutations())} mutations caught)")
    return 0


# ------------------------------------------------------------------------------------------ main


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("schema", nargs="?", type=Path, default=DEFAULT_SCHEMA,
                        help=f"Compose spec JSON schema (default: {DEFAULT_SCHEMA})")
    parser.add_argument("--compose", type=Path, default=REPO / "compose.yaml", help="compose file to check")
    parser.add_argument("--self-test", action="store_true",
                        help="break in-memory copies of the compose file and require every break be caught")
    args = parser.parse_args(argv)

    try:
        schema = json.loads(args.schema.read_text())
    except (OSError, ValueError) as error:
        print(f"check-compose: cannot read schema {args.schema}: {error}", file=sys.stderr)
        return 2
    try:
        doc = load_compose(args.compose)
    except (OSError, ValueError, yaml.YAMLError) as error:
        print(f"{args.compose.name}: cannot load: {error}", file=sys.stderr)
        return 1
    project = load_project(REPO)

    if args.self_test:
        return self_test(doc, schema, project)

    failures = check(doc, schema, project)
    if failures:
        print(f"{args.compose.name}: {len(failures)} problem(s):", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
        return 1
    print(f"{args.compose.name}: ok ({len(doc['services'])} services)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
