"""Property-based fuzz of every service's OpenAPI document: each operation the app's own /openapi.json
lists is called with generated requests (schemathesis), valid ones and ones that break the schema,
against the app in-process on SQLite with a tenant set up. No answer may be a 5xx, and an answer
whose status the document gives a schema must match it.

Generic on purpose: the operations come from the served document, so a route added (or the document
generated another way) is fuzzed without a change here. Path parameters are drawn from generated
values and from real ones (the tenant, its tickets, every aggregate id of every store used as any
id), so requests reach past the 404s. The caller's credentials come from one fixture.
"""

from __future__ import annotations

import logging

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings as hypothesis_settings, strategies as st
from schemathesis import GenerationMode

from shared.settings import SERVICES
from tests.support.tenant import credentials, tenant  # fixtures

EXAMPLES = 15  # per operation and generation mode: a service takes 10-35 s on a busy 2-core machine
CHECKS = [schemathesis.checks.not_a_server_error, schemathesis.checks.response_schema_conformance]


@pytest.fixture
def quiet_errors():
    """The apps log each 500 with its traceback; the test reports them itself."""
    logging.disable(logging.ERROR)
    yield
    logging.disable(logging.NOTSET)


def path_values(operation, known: dict[str, list], foreign: list[str]) -> st.SearchStrategy[dict]:
    """Values for the operation's path parameters: mostly all real ones, so requests reach past the 404s;
    else real ones with every id another aggregate's; else each a real one, another aggregate's id, or left
    to schemathesis to generate."""
    parameters = operation.path_parameters
    ids = {p.name for p in parameters if p.definition.get("schema", {}).get("format") == "uuid"}

    def mixed(name: str) -> st.SearchStrategy:
        choices = [st.sampled_from(known[name])] if name in known else []
        return st.one_of(*choices, *([st.sampled_from(foreign)] if name in ids else []), st.none())

    real = st.fixed_dictionaries({p.name: st.sampled_from(known[p.name]) for p in parameters if p.name in known})
    misused = st.fixed_dictionaries(
        {
            p.name: st.sampled_from(foreign if p.name in ids else known[p.name])
            for p in parameters
            if p.name in ids or p.name in known
        }
    )
    some = st.fixed_dictionaries({p.name: mixed(p.name) for p in parameters}).map(
        lambda drawn: {k: v for k, v in drawn.items() if v is not None}
    )
    return st.sampled_from([real, real, misused, some]).flatmap(lambda chosen: chosen)


def fuzz(operation, mode: GenerationMode, known: dict[str, list], foreign: list[str], headers: dict[str, str]) -> None:
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def one_request(data):
        path = data.draw(path_values(operation, known, foreign))
        case = data.draw(operation.as_strategy(mode, path_parameters=path))
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    one_request()


def described(failure: BaseException) -> str:
    found = failure.exceptions if isinstance(failure, BaseExceptionGroup) else (failure,)
    return "\n".join(str(f)[:2000] for f in found)


@pytest.mark.parametrize("service", SERVICES)
def test_no_operation_answers_a_5xx_or_off_its_schema(service, tenant, credentials, quiet_errors):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", tenant.apps[service])
    foreign = [str(id_) for id_ in tenant.foreign_ids(service)]  # the id of every aggregate it keeps, as any id
    # Reads first and removals last, so what the set-up made is still there for most requests.
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda operation: {"get": 0, "delete": 2}.get(operation.method.lower(), 1),
    )
    assert operations, "the document lists no operation"
    failures = []
    for operation in operations:
        # Path parameters are drawn from real values: only other parameters and a body can break the schema.
        known = tenant.known_for(service)
        breakable = any(p.location != "path" or p.name not in known for p in operation.iter_parameters()) or len(
            operation.body
        )
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if breakable else (GenerationMode.POSITIVE,):
            try:
                fuzz(operation, mode, known, foreign, credentials[service])
            except (Exception, BaseExceptionGroup) as failure:  # every operation's failures are reported together
                failures.append(f"{operation.label} ({mode.value}): {described(failure)}")
    assert not failures, "\n\n".join(failures)
