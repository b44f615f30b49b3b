"""`modelgate deploy` runs the flow on the fake engine and maps its outcome to the exit code."""

from modelgate.cli.main import main

SMALL = ["--concurrency", "1", "--num-requests", "5"]


def test_deploy_pass_exits_zero(fake_engine, model_dir, capsys):
    code = main(["deploy", "--model", str(model_dir), "--served-model-name", "cli-pass", *SMALL, "--target-e2e-latency-ms", "10000"])
    assert code == 0


def test_deploy_prints_model_type(fake_engine, model_dir, capsys):
    main(["deploy", "--model", str(model_dir), "--served-model-name", "cli-print", *SMALL])
    assert "model type:      embedding" in capsys.readouterr().out


def test_deploy_missed_target_exits_one(fake_engine, model_dir, capsys):
    fake_engine.setenv("FAKE_ENGINE_LATENCY_S", "0.05")
    code = main(["deploy", "--model", str(model_dir), "--served-model-name", "cli-miss", *SMALL, "--target-e2e-latency-ms", "1"])
    assert code == 1


def test_deploy_missing_model_exits_two(fake_engine, tmp_path, capsys):
    code = main(["deploy", "--model", str(tmp_path / "absent"), *SMALL])
    assert code == 2


def test_deploy_missing_model_names_path(fake_engine, tmp_path, capsys):
    main(["deploy", "--model", str(tmp_path / "absent"), *SMALL])
    assert str(tmp_path / "absent") in capsys.readouterr().err
