"The console scripts as a user runs them: exit codes, outputs, one-line errors."
import json, shutil, subprocess, sys
from pathlib import Path

BIN = Path(sys.executable).parent

def _run(*args, cwd):
    exe = shutil.which('attrreid_reproduce', path=str(BIN)) or 'attrreid_reproduce'
    return subprocess.run([exe, *args], capture_output=True, text=True, cwd=cwd, timeout=600)

def test_reproduce_fast_writes_results(tmp_path):
    out = _run('--fast', '--out', str(tmp_path/'run'), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    res = json.loads((tmp_path/'run'/'results.json').read_text())
    assert 'environment' in res and res['environment']['device']
    assert '[environment] done' in out.stdout
    synth = res['synthpeds']
    assert synth['version'] == 'synthpeds-v1' and synth['preset'] == 'tiny'
    # every layout was written and read back with non-empty splits
    assert set(synth['datasets']) == {'market1501', 'sysu_mm01', 'regdb', 'cuhk_pedes', 'peta', 'pa100k'}
    assert all(n > 0 for sizes in synth['datasets'].values() for n in sizes.values())

def test_bad_argument_is_one_line_error(tmp_path):
    out = _run('--seed', '-1', '--out', str(tmp_path/'run'), cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == ["error: argument `seed`: expected a non-negative integer, got -1"]
    assert 'Traceback' not in out.stderr
