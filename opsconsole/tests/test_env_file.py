import os
import subprocess
import sys

from opsconsole.env import BASE_DIR

PROBE = "import os, opsconsole.env; print(os.environ.get('OPSCONSOLE_PROBE_A'), os.environ.get('OPSCONSOLE_PROBE_B'))"


def probe(env_file, **extra) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSCONSOLE_PROBE_")}
    env.update(OPSCONSOLE_ENV_FILE=str(env_file), **extra)
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=BASE_DIR, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_every_process_reads_the_env_file_and_real_variables_win(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("OPSCONSOLE_PROBE_A=from-file\nOPSCONSOLE_PROBE_B=from-file\n")
    assert probe(env_file) == "from-file from-file"
    assert probe(env_file, OPSCONSOLE_PROBE_B="from-shell") == "from-file from-shell"


def test_no_env_file_changes_nothing(tmp_path):
    assert probe(tmp_path / "missing.env") == "None None"
