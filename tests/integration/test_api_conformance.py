"""The JSON API answers what /api/openapi.json promises: schemathesis with every check, bounded and seeded.

The schema and the request validation come from the same msgspec Structs, so a
constraint that the server enforces is one the document states; these tests
catch a status code, header or constraint that one of them forgets.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatserver.domain.markt import KINDS

MAX_EXAMPLES = 12
RUN_TIMEOUT_S = 150.0

# Every check stays on. One allowance, per operation and with its reason: these bodies carry a secret that is
# judged against stored state or a policy no JSON Schema can state (a one-time code that is wrong or spent;
# a password from the breach list, with fewer than four distinct characters or holding the pseudonym), so a
# well-formed body may still get 422. Everything else a 422 can mean is in the schema and checked.
CONFIG = """
[[operations]]
include-path-regex = "^/api/v1/(accounts|recovery/confirm|me/validation/confirm|me/referral)$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
"""


def _schemathesis() -> str:
    return str(Path(sys.executable).parent / "schemathesis")


async def _member_token(client: httpx.AsyncClient) -> str:
    reply = await client.post(
        "/api/v1/accounts", json={"pseudonym": "conformiteit", "password": "lang-Genoeg-wachtwoord"}
    )
    assert reply.status_code == 201, reply.text
    token: str = reply.json()["token"]
    return token


@pytest.mark.slow
async def test_schemathesis_reports_no_undocumented_status_and_no_server_error(
    server: Any, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    token = await _member_token(client)
    await server.services.markt.seed_demo()  # what the market operations' documented examples name
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG, encoding="utf-8")
    args = [
        _schemathesis(), "--config-file", str(config), "run", f"{server.url}/api/openapi.json",
        "--checks", "all",
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(MAX_EXAMPLES),
        "--generation-deterministic",
        "--workers", "1",
        "--request-timeout", "10",
        "--header", f"Authorization: Bearer {token}",
        "--suppress-health-check", "too_slow",
        "--no-color",
        "--output-truncate", "false",
        "--report", "junit", "--report-dir", str(tmp_path),
    ]  # fmt: skip
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"}
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env, cwd=tmp_path
    )
    try:
        async with asyncio.timeout(RUN_TIMEOUT_S):
            out, _ = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = out.decode(errors="replace")
    print(text[-6000:])
    print(f"schemathesis took {time.monotonic() - started:.1f} s")
    assert proc.returncode == 0, text[-12000:]


async def test_every_body_taking_operation_documents_bad_json_and_media_type(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/openapi.json")).json()
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            if "requestBody" not in op:
                continue
            for status in ("400", "413", "415", "422"):
                assert status in op["responses"], (method, path, status)
            answer = await client.request(method.upper(), path, content=b"{", headers={"Content-Type": "text/plain"})
            assert str(answer.status_code) in op["responses"], (method, path, answer.status_code)


async def test_documented_constraints_are_the_enforced_ones(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/openapi.json")).json()
    schemas = document["components"]["schemas"]
    pseudonym = schemas["Credentials"]["properties"]["pseudonym"]
    assert (pseudonym["minLength"], pseudonym["maxLength"]) == (3, 24)
    assert "oneOf" in schemas["ValidationBody"] or "oneOf" in str(schemas["ValidationBody"])
    assert schemas["AppealBody"]["properties"]["text"]["minLength"] >= 1
    # the constraint in the document is the one the decoder applies
    too_short = await client.post("/api/v1/accounts", json={"pseudonym": "ab", "password": "lang-Genoeg-wachtwoord"})
    assert too_short.status_code == 422 and too_short.json()["field"] == "pseudonym"
    both = await client.post("/api/v1/recovery", json={"email": "a@example.org", "phone": "+31612345678"})
    assert both.status_code == 422


async def test_options_lists_only_methods_that_exist(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/openapi.json")).json()
    for path, methods in document["paths"].items():
        concrete = path.replace("{ban_id}", "x").replace("{flavour}", "psychosenet").replace("{entry}", "x")
        answer = await client.options(concrete)
        assert answer.status_code == 204, (path, answer.status_code)
        allowed = {m.strip() for m in answer.headers["Allow"].split(",")}
        assert allowed == {m.upper() for m in methods} | {"OPTIONS"}, (path, allowed)
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - allowed:
            refused = await client.request(method, concrete)
            assert refused.status_code == 405 and refused.headers["Allow"] == answer.headers["Allow"]


async def test_the_market_read_api_is_documented_with_its_parameters_and_refuses_what_it_does_not_know(
    client: httpx.AsyncClient,
) -> None:
    paths = (await client.get("/api/openapi.json")).json()["paths"]
    for path in ("export", "regios", "{flavour}/aanbod", "{flavour}/aanbod/{entry}", "{flavour}/lokaal"):
        ok = paths[f"/api/v1/markt/{path}"]["get"]["responses"]["200"]
        assert ok["content"]["application/json"]["schema"]["$ref"].startswith("#/components/schemas/Markt")
    catalogue = {p["name"]: p for p in paths["/api/v1/markt/{flavour}/aanbod"]["get"]["parameters"]}
    assert set(catalogue) == {"flavour", "behoefte", "soort", "kosten", "taal", "bewijs", "waar", "sorteer", "q"}
    assert catalogue["soort"]["schema"]["enum"] == list(KINDS)
    assert catalogue["waar"]["schema"]["enum"] == ["online", "lokaal"]
    region = paths["/api/v1/markt/{flavour}/lokaal"]["get"]["parameters"][1]
    assert region["name"] == "regio" and region["required"] and region["schema"]["pattern"]
    # what the document leaves out is refused, not ignored as the page's own filters are
    unknown = await client.get("/api/v1/markt/psychosenet/aanbod", params={"soort": "podcast"})
    assert unknown.status_code == 422 and unknown.json()["field"] == "soort"
    twice = await client.get("/api/v1/markt/psychosenet/aanbod?taal=nl&taal=en")
    assert twice.status_code == 422 and twice.json()["field"] == "taal"
    assert (await client.get("/api/v1/markt/psychosenet/aanbod", params={"q": "x" * 201})).status_code == 422
    assert (await client.get("/api/v1/markt/psychosenet/lokaal", params={"regio": "gm:GM9999"})).status_code == 404
    assert (await client.get("/api/v1/markt/bestaat-niet/aanbod")).status_code == 404
    assert (await client.post("/api/v1/markt/regios")).status_code == 405
