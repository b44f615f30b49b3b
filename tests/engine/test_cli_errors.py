"""Bad input on the command line: one line on stderr naming the value, and exit code 2."""

from modelgate.cli.main import main


def test_port_out_of_range_exits_two(capsys):
    assert main(["probe", "http://127.0.0.1:99999"]) == 2


def test_port_out_of_range_is_named(capsys):
    main(["probe", "http://127.0.0.1:99999"])
    assert "invalid port" in capsys.readouterr().err


def test_negative_concurrency_exits_two(capsys):
    assert main(["deploy", "--concurrency", "-1"]) == 2


def test_negative_concurrency_is_named(capsys):
    main(["deploy", "--concurrency", "-1"])
    assert "concurrency=-1" in capsys.readouterr().err


def test_negative_target_names_field_only(capsys):
    main(["deploy", "--target-e2e-latency-ms", "-5"])
    assert capsys.readouterr().err.strip() == "modelgate deploy: invalid input: target_e2e_latency_ms=-5.0: Input should be greater than 0"


def test_bad_setting_names_variable(monkeypatch, capsys):
    monkeypatch.setenv("MODELGATE_HEALTH_TIMEOUT_S", "abc")
    main(["probe", "http://127.0.0.1:1"])
    assert "MODELGATE_HEALTH_TIMEOUT_S='abc'" in capsys.readouterr().err


def test_bad_setting_exits_two(monkeypatch, capsys):
    monkeypatch.setenv("MODELGATE_HEALTH_TIMEOUT_S", "abc")
    assert main(["probe", "http://127.0.0.1:1"]) == 2


def test_bench_checks_load_before_connecting(unused_port_url, capsys):
    main(["bench", unused_port_url, "--concurrency", "-3"])
    assert "concurrency=-3 is invalid" in capsys.readouterr().err
