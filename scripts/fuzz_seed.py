#!/usr/bin/env python3
"""Seeds a running ldr with a directory and disputes in many states, over its HTTP API.

Used by scripts/fuzz.sh; standard library only. Two phases, because the hearing of a case can
only be recorded on its day and the service's "today" is pinned at start (LDR_TODAY):

    fuzz_seed.py setup BASE_URL STATE.json [TODAY]  # LDR_TODAY (a Monday, default 2026-03-02):
                                                    # directory, cases up to hearing_scheduled
    fuzz_seed.py later BASE_URL STATE.json   # restarted on the hearing day: hearings, decisions, referral

STATE.json keeps the ids between the phases; after `later` it also holds a fresh token per role
(`tokens`), and the ids the fuzzing hooks put into path parameters (`ids`).
"""

import json
import sys
import urllib.error
import urllib.request

ADMIN_EMAIL = "admin@fuzz.test"
ADMIN_PASSWORD = "fuzz-admin-password-1"
PASSWORD = "fuzz-user-password-1"

# name -> (organisation key, roles, panel roles). The first user of each role is the one the
# fuzzer runs as for that role.
USERS = {
    "practice": ("elm", ["practice_user"], []),
    "oak_practice": ("oak", ["practice_user"], []),
    "commissioner": ("north_ccg", ["commissioner"], []),
    "officer": ("north_ccg", ["accountable_officer"], []),
    "mediator": ("lmc_north", ["lmc_mediator"], []),
    "secretary": ("south_ccg", ["panel_secretary"], []),
    "clinical": ("south_ccg", ["panelist"], ["clinical_board_member"]),
    "gp": ("birch", ["panelist"], ["gp_conciliator"]),
    "lmc_rep": ("lmc_kent", ["panelist"], ["lmc_representative"]),
    # Users that only the admin's fuzzing may change (PATCH /users/{id} can deactivate them).
    "spare1": ("birch", ["practice_user"], []),
    "spare2": ("south_ccg", ["panelist"], ["clinical_board_member"]),
}

ROLE_LOGINS = {
    "practice_user": "practice",
    "commissioner": "commissioner",
    "accountable_officer": "officer",
    "lmc_mediator": "mediator",
    "panel_secretary": "secretary",
    "panelist": "clinical",
}


class Api:
    def __init__(self, base):
        self.base = base.rstrip("/")

    def call(self, method, path, token=None, body=None, raw=None, content_type=None, expect=None):
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if raw is not None:
            data = raw
            headers["Content-Type"] = content_type
        if token:
            headers["Authorization"] = "Bearer " + token
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status, payload = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, payload = e.code, e.read()
        if expect is not None and status != expect:
            raise SystemExit(f"seed: {method} {path} answered {status}, expected {expect}: {payload[:500]!r}")
        return json.loads(payload) if payload else None

    def login(self, email, password):
        r = self.call("POST", "/api/v1/auth/login", body={"email": email, "password": password}, expect=200)
        return r["access_token"]


def email_of(name):
    return f"{name}@fuzz.test"


def setup(api, st):
    admin = api.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    today = st["today"]

    def org(key, name, kind, area, region, commissioner=None):
        body = {"name": name, "kind": kind, "area": area, "region": region,
                "email": f"{key}@{kind}.nhs.test", "address": f"1 {name} Street, {area}"}
        if commissioner:
            body["commissioner_id"] = orgs[commissioner]
        orgs[key] = api.call("POST", "/api/v1/organisations", admin, body, expect=201)["id"]

    orgs = {}
    org("north_ccg", "North CCG", "commissioner", "North Essex", "East")
    org("south_ccg", "South CCG", "commissioner", "South Essex", "East")
    org("lmc_north", "North Essex LMC", "lmc", "North Essex", "East")
    org("lmc_kent", "Kent LMC", "lmc", "Kent", "South East")
    org("lmc_south", "South Essex LMC", "lmc", "South Essex", "East")
    org("elm", "Elm Practice", "practice", "North Essex", "East", "north_ccg")
    org("oak", "Oak Practice", "practice", "North Essex", "East", "north_ccg")
    org("birch", "Birch Practice", "practice", "South Essex", "East", "south_ccg")
    org("fhsu", "FHSU", "fhsu", "National", "National")

    users = {}
    for name, (o, roles, panel) in USERS.items():
        users[name] = api.call("POST", "/api/v1/users", admin, {
            "name": name.replace("_", " ").title(), "email": email_of(name), "password": PASSWORD,
            "organisation_id": orgs[o], "roles": roles, "panel_roles": panel}, expect=201)["id"]
    tok = {name: api.login(email_of(name), PASSWORD)
           for name in ("practice", "officer", "mediator", "secretary", "gp")}

    api.call("POST", f"/api/v1/users/{users['clinical']}/interests", admin,
             {"organisation_id": orgs["birch"], "nature": "Partner's practice", "declared_on": today}, expect=201)
    api.call("POST", f"/api/v1/users/{users['gp']}/unavailability", tok["gp"],
             {"from": "2026-04-20", "to": "2026-04-24"}, expect=201)

    def file(title, respondent="north_ccg", contract=True):
        return api.call("POST", "/api/v1/disputes", tok["practice"], {
            "title": title, "category": "prescribing", "appellant_id": orgs["elm"],
            "respondent_id": orgs[respondent], "summary": "The budget was cut without consultation.",
            "matter_arose_on": "2025-06-01", "contract_related": contract}, expect=201)["id"]

    def ev(who, did, body):
        api.call("POST", f"/api/v1/disputes/{did}/events", tok[who], body, expect=200)

    hearing = api.call("GET", f"/api/v1/calendar/working-days/add?from={today}&days=8",
                       tok["practice"], expect=200)["date"]
    steps = [
        ("informal_mediation", "mediator",
         {"type": "assign_mediator", "mediator_id": users["mediator"], "mode": "mediation"}),
        ("informal_exhausted", "mediator", {"type": "exhaust_informal", "reason": "No agreement"}),
        ("formal_requested", "practice",
         {"type": "request_formal", "grounds": "The cut breaches the agreed budget.", "lodged_on": today}),
        ("formal_requested+lmc", "officer",
         {"type": "record_lmc_consultation", "consulted_on": today, "summary": "By phone"}),
        ("panel_forming", "officer", {"type": "screen", "outcome": "proceed", "reason": "Substantive"}),
        ("panel_appointed", "secretary",
         {"type": "appoint_panel", "clinical_member_id": users["clinical"], "gp_conciliator_id": users["gp"],
          "lmc_representative_id": users["lmc_rep"], "secretary_id": users["secretary"], "chair_id": users["gp"]}),
        ("hearing_scheduled", "secretary",
         {"type": "schedule_hearing", "date": hearing, "time": "10:00", "venue": "Room 1, County Hall"}),
    ]

    def walk(did, target):
        for state, who, body in steps:
            ev(who, did, body)
            if state == target:
                return did
        raise SystemExit(f"seed: unknown target {target}")

    disputes = {"informal": file("Informal case")}
    disputes["inter_practice"] = file("Patient list boundary", respondent="oak", contract=False)
    for target in ("informal_mediation", "informal_exhausted", "formal_requested", "panel_forming",
                   "panel_appointed", "hearing_scheduled"):
        disputes[target] = walk(file(f"Case to {target}"), target)
    for later in ("hearing_held", "decided", "decision_notified", "referred_to_fhsu", "closed"):
        disputes[later] = walk(file(f"Case to {later}"), "hearing_scheduled")
    disputes["rejected"] = walk(file("Frivolous case"), "formal_requested+lmc")
    ev("officer", disputes["rejected"], {"type": "screen", "outcome": "frivolous", "reason": "No substance"})
    disputes["withdrawn"] = file("Withdrawn case")
    ev("practice", disputes["withdrawn"], {"type": "withdraw", "reason": "Settled"})
    ev("mediator", disputes["informal_mediation"], {"type": "add_note", "text": "First meeting held"})

    st.update({"orgs": orgs, "users": users, "disputes": disputes, "hearing": hearing})


def upload(api, token, did, kind, name, content):
    boundary = "FuZzBoUnDaRy"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n{kind}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return api.call("POST", f"/api/v1/disputes/{did}/documents", token, raw=body,
                    content_type=f"multipart/form-data; boundary={boundary}", expect=201)["id"]


def later(api, st):
    users, disputes, hearing = st["users"], st["disputes"], st["hearing"]
    tok = {name: api.login(email_of(name), PASSWORD) for name in USERS if not name.startswith("spare")}
    tok["admin"] = api.login(ADMIN_EMAIL, ADMIN_PASSWORD)

    def ev(who, did, body):
        api.call("POST", f"/api/v1/disputes/{did}/events", tok[who], body, expect=200)

    held = {"type": "record_hearing", "held_on": hearing, "appellant_presented": True,
            "respondent_presented": True, "record": "Both parties presented."}
    decision = {"type": "record_decision", "outcome": "appellant", "recommendations": "Restore the budget.",
                "votes": [{"member_id": users["clinical"], "vote": "appellant"},
                          {"member_id": users["gp"], "vote": "appellant"},
                          {"member_id": users["lmc_rep"], "vote": "respondent"}]}
    for target in ("hearing_held", "decided", "decision_notified", "referred_to_fhsu", "closed"):
        did = disputes[target]
        ev("secretary", did, held)
        if target == "hearing_held":
            continue
        ev("secretary", did, decision)
        if target == "decided":
            continue
        ev("secretary", did, {"type": "notify_decision"})
        if target == "decision_notified":
            continue
        doc = upload(api, tok["practice"], did, "contract", "gms-contract.pdf", b"%PDF-1.4 contract")
        ev("practice", did, {"type": "refer_to_fhsu", "statement": "We ask the FHSU to determine it.",
                             "contract_document_id": doc, "referred_on": hearing})
        if target == "referred_to_fhsu":
            continue
        ev("secretary", did, {"type": "record_fhsu_determination", "determined_on": hearing,
                              "outcome": "appellant", "summary": "Upheld"})
    documents = [upload(api, tok["practice"], disputes["hearing_scheduled"], "evidence", "budget.pdf",
                        b"%PDF-1.4 budget letter")]
    documents.append(upload(api, tok["secretary"], disputes["decided"], "record", "minutes.pdf",
                            b"%PDF-1.4 minutes"))
    tokens = {role: tok[name] for role, name in ROLE_LOGINS.items()}
    tokens["admin"] = tok["admin"]
    role_user = {role: users[name] for role, name in ROLE_LOGINS.items()}
    role_user["admin"] = None
    st.update({
        "tokens": tokens,
        "role_user": role_user,
        "ids": {
            "organisations": sorted(st["orgs"].values()),
            "users": sorted(v for k, v in users.items() if not k.startswith("spare")),
            "spare_users": sorted(v for k, v in users.items() if k.startswith("spare")),
            "disputes": sorted(disputes.values()),
            "documents": documents,
        },
    })


def main():
    if len(sys.argv) not in (4, 5) or sys.argv[1] not in ("setup", "later"):
        raise SystemExit(__doc__)
    phase, base, path = sys.argv[1:4]
    api = Api(base)
    if phase == "setup":
        st = {"today": sys.argv[4] if len(sys.argv) > 4 else "2026-03-02"}
        setup(api, st)
    else:
        with open(path) as f:
            st = json.load(f)
        later(api, st)
    with open(path, "w") as f:
        json.dump(st, f, indent=1)
    print(f"seed {phase}: {len(st['disputes'])} disputes, {len(st['users'])} users")


if __name__ == "__main__":
    main()
