"""`modelgate register`: the event it builds and what it rejects before sending (no server needed)."""

import json

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings

from modelgate.cli.main import main


def test_dry_run_prints_event(capsys):
    code = main(["register", "/models/bge", "--served-model-name", "bge", "--concurrency", "4", "--dry-run"])
    event = json.loads(capsys.readouterr().out)

    assert code == 0
    assert event["event"] == "model.registered"
    assert event["resource"]["prefect.resource.id"] == "model./models/bge"
    assert event["payload"]["load"] == {"concurrency": 4}


def test_flags_override_json(capsys):
    main(["register", "m", "--load", '{"concurrency": 2, "batch_size": 8}', "--concurrency", "16", "--dry-run"])
    payload = json.loads(capsys.readouterr().out)["payload"]

    assert payload["load"] == {"concurrency": 16, "batch_size": 8}


def test_target_flag_sets_target(capsys):
    main(["register", "m", "--target-e2e-latency-ms", "50", "--dry-run"])
    payload = json.loads(capsys.readouterr().out)["payload"]

    assert payload["targets"] == {"target_e2e_latency_ms": 50.0}


def test_unknown_load_field_named(capsys):
    code = main(["register", "m", "--load", '{"concurency": 2}', "--dry-run"])

    assert code == 2
    assert "'concurency' was unexpected" in capsys.readouterr().err


def test_string_count_rejected(capsys):
    # The server's schema check rejects "2" for an integer, though pydantic would accept it.
    code = main(["register", "m", "--load", '{"concurrency": "2"}', "--dry-run"])

    assert code == 2
    assert "load.concurrency: '2' is not of type 'integer'" in capsys.readouterr().err


def test_unknown_runtime_rejected(capsys):
    code = main(["register", "m", "--runtime", "gpu-cluster", "--dry-run"])

    assert code == 2
    assert "runtime: 'gpu-cluster' is not one of ['local', 'kubernetes']" in capsys.readouterr().err


def test_negative_target_rejected(capsys):
    code = main(["register", "m", "--target-e2e-latency-ms", "-5", "--dry-run"])

    assert code == 2
    assert "targets.target_e2e_latency_ms" in capsys.readouterr().err


def test_load_must_be_object(capsys):
    with pytest.raises(SystemExit):
        main(["register", "m", "--load", "[1, 2]"])

    assert "must be a JSON object" in capsys.readouterr().err


def test_missing_api_url_explained(capsys):
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        code = main(["register", "m"])

    assert code == 2
    assert "PREFECT_API_URL is not set" in capsys.readouterr().err


def test_unreachable_server_explained(capsys, unused_port_url):
    with temporary_settings(updates={PREFECT_API_URL: f"{unused_port_url}/api"}):
        code = main(["register", "m"])

    assert code == 2
    assert "could not send model.registered" in capsys.readouterr().err


def test_request_in_payload(capsys):
    request = {"endpoint_name": "bge-embeddings", "concurrency": 100, "target_e2e_latency": 50}
    main(["register", "BAAI/bge-base-en-v1.5", "--request", json.dumps(request), "--dry-run"])
    payload = json.loads(capsys.readouterr().out)["payload"]

    assert payload["request"] == request


def test_request_absent_is_null(capsys):
    main(["register", "m", "--dry-run"])
    payload = json.loads(capsys.readouterr().out)["payload"]

    assert payload["request"] is None


def test_unknown_request_field_named(capsys):
    code = main(["register", "m", "--request", '{"endpoint_name": "bge", "simulator_id": "s1"}', "--dry-run"])

    assert code == 2
    assert "request: Additional properties are not allowed ('simulator_id' was unexpected)" in capsys.readouterr().err


def test_request_model_must_match(capsys):
    code = main(["register", "m", "--request", '{"model": "other"}', "--dry-run"])

    assert code == 2
    assert "the request's model 'other' differs from MODEL 'm'" in capsys.readouterr().err
