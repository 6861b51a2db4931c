"""The client of `requests.sh`: one keep-alive HTTP/1.1 connection, as the load tool's users.

    client.py PORT login                 log the practice user and both mediators in
    client.py PORT get|note|assign N OFF  N requests on the disputes OFF.. of ids.txt
    client.py PORT mine N OFF             N first pages of GET /disputes?mine=true as the
                                         mediator with 500 cases (OFF is not used)
"""
import http.client
import json
import os
import sys

HERE = os.environ.get("CG_WORK", "/tmp/ldr-callgrind")
PW = "load-user-password-1"  # benches/load/: PW
port, mode = int(sys.argv[1]), sys.argv[2]
conn = http.client.HTTPConnection("127.0.0.1", port)


def req(method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    r = conn.getresponse()
    return r.status, r.read()


def path(name):
    return os.path.join(HERE, name)


if mode == "login":
    for who, email in (("practice", "practice@load.test"), ("assigner", "assigner@load.test"),
                       ("mediator", "mediator@load.test")):
        status, body = req("POST", "/api/v1/auth/login", {"email": email, "password": PW})
        assert status == 200, (status, body)
        with open(path(who + ".token"), "w") as f:
            f.write(json.loads(body)["access_token"])
    sys.exit(0)

n, off = int(sys.argv[3]), int(sys.argv[4])
practice = open(path("practice.token")).read()
assigner = open(path("assigner.token")).read()
assigner_id = open(path("assigner.id")).read().strip()
if mode == "mine":
    mediator = open(path("mediator.token")).read()
    for _ in range(n):
        status, body = req("GET", "/api/v1/disputes?mine=true", token=mediator)
        assert status == 200 and len(json.loads(body)["items"]) == 50, (status, body)
    sys.exit(0)
ids = [line.strip() for line in open(path("ids.txt"))][off:off + n]
assert len(ids) == n, "not enough unassigned disputes in ids.txt"
for i in ids:
    if mode == "get":
        status, body = req("GET", "/api/v1/disputes/" + i, token=practice)
    elif mode == "note":
        status, body = req("POST", f"/api/v1/disputes/{i}/events",
                           {"type": "add_note", "text": "Load test note"}, practice)
    else:
        status, body = req("POST", f"/api/v1/disputes/{i}/events",
                           {"type": "assign_mediator", "mode": "advisory", "mediator_id": assigner_id},
                           assigner)
    assert status == 200, (status, body)
