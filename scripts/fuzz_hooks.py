"""Schemathesis hooks for scripts/fuzz.sh (loaded through SCHEMATHESIS_HOOKS).

- `problem_json_errors`: a check that every 4xx and 5xx answer is `application/problem+json`
  with `type`, `title`, `status` (equal to the HTTP status), `detail` and `code`.
- Path parameters: `{id}` is, more often than not, the id of a seeded organisation, user,
  dispute or document (from FUZZ_SEED_FILE), so the fuzzer reaches past the 404s.
- Bodies: filing and event bodies are sometimes given real ids (and events a realistic shape),
  so the procedure's own checks run and not only the field validation.

Environment: FUZZ_SEED_FILE (the JSON written by fuzz_seed.py), FUZZ_ROLE (the role the run is
authenticated as, or `anonymous`).
"""

import json
import os

import schemathesis
from hypothesis import strategies as st

_SEED = {}
if os.environ.get("FUZZ_SEED_FILE"):
    with open(os.environ["FUZZ_SEED_FILE"]) as _f:
        _SEED = json.load(_f)
_ROLE = os.environ.get("FUZZ_ROLE", "anonymous")
_IDS = _SEED.get("ids", {})

PROBLEM_FIELDS = ("type", "title", "status", "detail", "code")


@schemathesis.check
def problem_json_errors(ctx, response, case):
    """Every 4xx/5xx is application/problem+json with type, title, status, detail and code."""
    status = response.status_code
    if status < 400:
        return None
    ctype = (response.headers.get("content-type") or [""])[0]
    if ctype.split(";")[0].strip().lower() != "application/problem+json":
        raise AssertionError(f"{status} answered with content-type {ctype!r}, not application/problem+json")
    try:
        body = json.loads(response.content)
    except ValueError as e:
        raise AssertionError(f"{status} problem body is not JSON: {e}") from None
    if not isinstance(body, dict):
        raise AssertionError(f"{status} problem body is not an object")
    missing = [k for k in PROBLEM_FIELDS if not body.get(k) and body.get(k) != 0]
    if missing:
        raise AssertionError(f"{status} problem body lacks {', '.join(missing)}")
    if body["status"] != status:
        raise AssertionError(f"problem status {body['status']} differs from the HTTP status {status}")
    return None


def _pool(operation):
    """The seeded ids that make sense for the `{id}` of this operation."""
    path, method = operation.path, operation.method.lower()
    if path.startswith("/api/v1/organisations/"):
        return _IDS.get("organisations", [])
    if path.startswith("/api/v1/users/"):
        spare = _IDS.get("spare_users", [])
        if method == "patch":
            # Only the spare users: the fuzzer may deactivate them or take their roles away,
            # and the users the other runs log in as must stay as they are.
            return spare
        return _IDS.get("users", []) + spare
    if path.startswith("/api/v1/disputes/"):
        return _IDS.get("disputes", [])
    if path.startswith("/api/v1/documents/"):
        return _IDS.get("documents", [])
    return []


@schemathesis.hook
def flatmap_path_parameters(ctx, path_parameters):
    pool = _pool(ctx.operation) if ctx.operation is not None else []
    if not pool or not isinstance(path_parameters, dict) or "id" not in path_parameters:
        return st.just(path_parameters)
    # Mostly a real id (weighted 3:1), sometimes whatever was generated.
    real = st.sampled_from(pool).map(lambda i: {**path_parameters, "id": i})
    return st.one_of(real, real, real, st.just(path_parameters))


def _event_templates():
    users = _SEED.get("users", {})
    if not users:
        return []
    hearing = _SEED.get("hearing", "2026-03-12")
    docs = _IDS.get("documents", []) or ["none"]
    return [
        {"type": "assign_mediator", "mediator_id": users["mediator"], "mode": "mediation"},
        {"type": "add_note", "text": "A note"},
        {"type": "resolve_informally", "summary": "Agreed"},
        {"type": "exhaust_informal", "reason": "No agreement"},
        {"type": "request_formal", "grounds": "Grounds", "lodged_on": hearing},
        {"type": "record_lmc_consultation", "consulted_on": hearing, "summary": "Consulted"},
        {"type": "screen", "outcome": "proceed", "reason": "Substantive"},
        {"type": "appoint_panel", "clinical_member_id": users["clinical"], "gp_conciliator_id": users["gp"],
         "lmc_representative_id": users["lmc_rep"], "secretary_id": users["secretary"], "chair_id": users["gp"]},
        {"type": "schedule_hearing", "date": "2026-04-02", "time": "10:00", "venue": "Room 2"},
        {"type": "distribute_bundle"},
        {"type": "record_hearing", "held_on": hearing, "appellant_presented": True,
         "respondent_presented": False, "record": "Record"},
        {"type": "record_decision", "outcome": "respondent", "recommendations": "None",
         "votes": [{"member_id": users["clinical"], "vote": "respondent"},
                   {"member_id": users["gp"], "vote": "abstain"},
                   {"member_id": users["lmc_rep"], "vote": "respondent"}]},
        {"type": "notify_decision"},
        {"type": "refer_to_fhsu", "statement": "Statement", "contract_document_id": docs[0],
         "referred_on": hearing},
        {"type": "record_fhsu_determination", "determined_on": hearing, "outcome": "respondent",
         "summary": "Dismissed"},
        {"type": "close", "reason": "Done"},
        {"type": "withdraw", "reason": "Settled"},
    ]


@schemathesis.hook
def flatmap_body(ctx, body):
    op = ctx.operation
    if op is None or not isinstance(body, dict) or not _SEED:
        return st.just(body)
    method, path = op.method.lower(), op.path
    if method == "post" and path == "/api/v1/disputes":
        orgs = _IDS.get("organisations", [])
        real = st.tuples(st.sampled_from(orgs), st.sampled_from(orgs)).map(
            lambda ar: {**body, "appellant_id": ar[0], "respondent_id": ar[1]})
        return st.one_of(st.just(body), real)
    if method == "post" and path == "/api/v1/disputes/{id}/events":
        templates = _event_templates()
        if not templates:
            return st.just(body)
        # A realistic event, sometimes with the generated fields laid over it. A body that
        # schemathesis generated as invalid must stay invalid (it still expects a refusal): the
        # schema requires only a known `type`, so a body without one is left alone, and the
        # generated fields (where any violation lies) always win over the template's. A negative
        # case may give `type` as a list or an object, which no set can hold: that body is left
        # alone too.
        known = {t["type"] for t in templates}
        kind = body.get("type")
        if not isinstance(kind, str) or kind not in known:
            return st.just(body)
        realistic = st.sampled_from(templates)
        mixed = realistic.map(lambda t: {**t, **{k: v for k, v in body.items() if k != "type"}})
        if set(body) == {"type"}:
            return st.one_of(st.just(body), realistic, mixed)
        return st.one_of(st.just(body), mixed)
    return st.just(body)
