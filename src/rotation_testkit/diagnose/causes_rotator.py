"""Causes of the rotator family: the secret's JSON, the database's answer, and the timing between
the steps."""

from __future__ import annotations

import re
from datetime import timedelta

from .causes import Cause, Context, failing_lines, step_text
from .causes_access import DATABASE_UNREACHABLE
from .commands import secret_command
from .logs import LogLine
from .masking import MASK, is_key_name

# A key's name is bounded so that a long run of word characters costs linear time.
_MISSING_KEY = re.compile(
    r"\b(?P<key>\w{1,128}) key is missing from secret JSON|"
    r"\[ERROR\] KeyError: '(?P<bare>\w+)'|^KeyError: '(?P<line>\w+)'|"
    r"Database engine must be set to '(?P<engine>\w+)'",
    re.MULTILINE,
)
_NOT_JSON = re.compile(r"JSONDecodeError|Expecting value: line 1 column 1|is not valid JSON")
# The database refused the new password itself (policy, length, characters, quoting).
_VALUE_REFUSED = re.compile(
    r"does not satisfy the current policy requirements|Password validation failed|"
    r"not complex enough|ORA-28003|ORA-00922|ORA-01740|password must (?:contain|be)|"
    r"password is too (?:short|long)|invalid (?:character|password)|"
    r"syntax error at or near|error in your SQL syntax|\(1819,|\(1064,",
    re.IGNORECASE,
)
# A database driver's or server's own error.
_DATABASE_ERROR = re.compile(
    r"permission denied|must be (?:superuser|owner)|Access denied for user|"
    r"insufficient privilege|ORA-\d{5}|password authentication failed|Login failed for user|"
    r"role \S+ does not exist|SQLSTATE|psycopg|pg8000|pymysql|mysql\.connector|pyodbc|"
    r"ProgrammingError|OperationalError|DatabaseError|InterfaceError",
    re.IGNORECASE,
)
# The driver is missing from the package: the database never answered (see causes_story).
_IMPORT_FAILED = re.compile(r"ModuleNotFoundError|ImportModuleError|No module named")
_SET_OK = re.compile(r"setSecret: Successfully set password|setSecret: Successfully")
_ALREADY_SET = re.compile(r"setSecret: AWSPENDING secret is already set")
_TEST_FAILED = re.compile(
    r"testSecret: Unable to log into database|Unable to log into database with pending secret|"
    r"password authentication failed|Access denied for user|Login failed for user"
)
_NONE_ACCEPTED = re.compile(
    r"Unable to log into database (?:with previous, current, or pending secret|using current "
    r"credentials|using credentials in master secret)"
)
#: How soon after setSecret a failing testSecret points at a change still propagating.
PROPAGATION_WINDOW = timedelta(minutes=5)


def secret_json(context: Context) -> list[Cause]:
    """The secret's JSON lacks a key the function reads, or is not JSON."""
    for line in context.log_matches(_MISSING_KEY):
        match = _MISSING_KEY.search(line.text)
        assert match is not None
        step = context.step_of(line)
        if match.group("engine"):
            what = f'"engine" is not "{match.group("engine")}"'
            key = "engine"
        else:
            key = match.group("key") or match.group("bare") or match.group("line")
            if not is_key_name(key):
                key = MASK  # the literal looks like a value, not a key's name
            what = f'the key "{key}" is missing'
        version = "AWSCURRENT" if step in (None, "createSecret") else "AWSPENDING"
        hint = {
            "masterarn": " A multi-user rotation needs masterarn: the ARN of the secret that "
            "holds the administrator's credentials, which changes the password.",
            "engine": " AWS's database templates check engine (postgres, mysql, mariadb, "
            "oracle, sqlserver, redshift, mongo, db2).",
        }.get(key, "")
        return [
            Cause(
                code="secret-json-missing-key",
                title=f"The secret's JSON lacks what the function needs: {what}",
                explanation=(
                    f"In {step_text(step)} the function read the {version} value and stopped: "
                    "its JSON does not have what the function reads." + hint
                ),
                fix=(
                    f'Store a value with the complete JSON, "{key}" included (put-secret-value '
                    "with the JSON in a file; storing a new value also ends the stuck rotation). "
                    "List the keys the current value has, without printing their values:"
                ),
                evidence=(context.quote(line),),
                commands=(_keys_command(context),),
            )
        ]
    for line in context.log_matches(_NOT_JSON):
        return [
            Cause(
                code="secret-not-json",
                title="The secret's value is not the JSON the function expects",
                explanation="The function parses the secret as JSON, and the value is not JSON.",
                fix="Store the value as a JSON object with the keys the function reads.",
                evidence=(context.quote(line),),
                commands=(_keys_command(context),),
            )
        ]
    return []


def _keys_command(context: Context) -> str:
    return (
        secret_command(
            "get-secret-value",
            context.secret.secret_id,
            "--version-stage",
            "AWSCURRENT",
            "--query",
            "SecretString",
            "--output",
            "text",
            region=context.region,
        )
        + " | jq keys"
    )


def database(context: Context) -> list[Cause]:
    """The database refused the new password, or refused the change for its own reason."""
    refused = [
        line
        for line in context.log_matches(_VALUE_REFUSED)
        if context.step_of(line) != "testSecret"
    ]
    if refused:
        line = refused[0]
        return [
            Cause(
                code="database-rejected-value",
                title="The database refused the new password's value",
                explanation=(
                    f"In {step_text(context.step_of(line))} the database refused the generated "
                    "password: it breaks the database's password policy, or holds a character "
                    "that the statement or the database does not accept (quotes, @, /, "
                    "backslash)."
                ),
                fix=(
                    "Make the function generate passwords the database accepts: AWS's templates "
                    "read the EXCLUDE_CHARACTERS and PASSWORD_LENGTH environment variables "
                    "(get-random-password --exclude-characters / --password-length). Since "
                    "createSecret already stored a refused password in the pending version, "
                    "remove AWSPENDING after the fix so that the next rotation generates a new one."
                ),
                evidence=(context.quote(line),),
            )
        ]
    causes: list[Cause] = []
    errors = [
        line
        for line in context.log_matches(_DATABASE_ERROR)
        if context.step_of(line) in ("setSecret", None)
        and not _TEST_FAILED.search(line.text)
        and not DATABASE_UNREACHABLE.search(line.text)
        and not _IMPORT_FAILED.search(line.text)
    ]
    if errors:
        line = errors[0]
        causes.append(
            Cause(
                code="database-refused-change",
                title="The database refused the password change",
                explanation=(
                    "setSecret asked the database to change the password, and the database "
                    "refused, for the reason in its own error quoted below (the user that "
                    "changes the password lacks a privilege, the user does not exist, ...)."
                ),
                fix=(
                    "Fix what the database's error names, for the user setSecret connects as "
                    "(the secret's own user, or the master secret's for multi-user rotation)."
                ),
                evidence=(context.quote(line, whole=False),),
            )
        )
    none_accepted = context.log_matches(_NONE_ACCEPTED)
    if none_accepted and not causes and not context.log_matches(DATABASE_UNREACHABLE):
        line = none_accepted[0]
        causes.append(
            Cause(
                code="database-refused-login",
                title="The database accepts none of the stored credentials",
                explanation=(
                    "setSecret could not log in with any credentials it tried. Either the "
                    "password was changed outside rotation (by hand, or by infrastructure code "
                    "that set it again), the database requires TLS, or the connection failed: "
                    "AWS's templates report a failed connection the same way."
                ),
                fix=(
                    "Log in to the database with the AWSCURRENT credentials by hand. If they "
                    "fail, set the database's password to the AWSCURRENT value (or store the "
                    "password the database has with put-secret-value), then remove AWSPENDING."
                ),
                evidence=(context.quote(line),),
                certain=False,
                settle="the function's log lines just before this one (a driver's error names "
                "the reason)",
            )
        )
    return causes


def propagation(context: Context) -> list[Cause]:
    """testSecret ran before the password change setSecret made had reached every database node."""
    set_lines = context.log_matches(_SET_OK)
    failed = [
        line for line in context.log_matches(_TEST_FAILED) if context.step_of(line) == "testSecret"
    ]
    already = context.log_matches(_ALREADY_SET)
    for test_line in failed:
        before = _latest_before(set_lines, test_line)
        if before is None:
            continue
        gap = (
            test_line.time - before.time
            if test_line.time is not None and before.time is not None
            else None
        )
        if (gap is None or gap <= PROPAGATION_WINDOW) or already:
            after = f" {_seconds(gap)} later" if gap is not None else " after it"
            evidence = [context.quote(before), context.quote(test_line)]
            if already:
                evidence.append(context.quote(already[0]))
            return [
                Cause(
                    code="test-before-propagation",
                    title="testSecret ran before the new password had propagated",
                    explanation=(
                        "setSecret changed the password, and testSecret, run"
                        f"{after}, could not log in with it"
                        + (
                            "; a later attempt found the password already set, so the change "
                            "did happen"
                            if already
                            else ""
                        )
                        + ". The database (a replica, a cluster reader, a directory) had not "
                        "applied the change yet when testSecret connected."
                    ),
                    fix=(
                        "Make testSecret retry the login for a while (with backoff, within the "
                        "function's timeout), or connect to the writer/primary endpoint. The "
                        "password in the pending version is already the database's: finishing "
                        "the rotation (moving AWSCURRENT to it) is safe once a login with it works."
                    ),
                    evidence=tuple(evidence),
                )
            ]
    return []


def _seconds(gap: timedelta) -> str:
    seconds = int(gap.total_seconds())
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def _latest_before(lines: list[LogLine], line: LogLine) -> LogLine | None:
    moment = line.time
    if moment is None:
        others = [other for other in lines if other is not line]
        return others[-1] if others else None
    earlier = [
        (other.time, index, other)
        for index, other in enumerate(lines)
        if other.time is not None and other.time <= moment
    ]
    return max(earlier)[2] if earlier else None


def unrecognised(context: Context) -> list[Cause]:
    """The function failed with an error no rule recognises: quote it, so the reader sees it."""
    lines = [line for line in failing_lines(context) if "[ERROR]" in line.text]
    lines = lines or failing_lines(context)
    failed = context.events_named("RotationFailed")
    if not lines and not failed:
        return []
    evidence = [context.quote(line) for line in lines[-2:]]
    evidence += [context.quote_event(event) for event in failed[-1:]]
    step = context.step_of(lines[-1]) if lines else failed[-1].step
    return [
        Cause(
            code="function-error",
            title=f"The function failed in {step_text(step)}",
            explanation=(
                "The function's error is quoted below; the kit does not recognise it as one "
                "of the common causes."
            ),
            fix="Fix what the error names, then unblock the secret as shown below.",
            evidence=tuple(evidence),
        )
    ]


RULES = (secret_json, database, propagation)
FALLBACK = (unrecognised,)
