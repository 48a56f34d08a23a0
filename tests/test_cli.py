"The console scripts as a user runs them: exit codes, outputs, one-line errors."
import json, shutil, subprocess, sys
import pytest
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
    assert synth['version'] == 'synthpeds-v2' and synth['preset'] == 'tiny'
    # every layout was written and read back with non-empty splits
    assert set(synth['datasets']) == {'market1501', 'sysu_mm01', 'regdb', 'cuhk_pedes', 'peta', 'pa100k'}
    assert all(n > 0 for sizes in synth['datasets'].values() for n in sizes.values())

def test_bad_argument_is_one_line_error(tmp_path):
    out = _run('--seed', '-1', '--out', str(tmp_path/'run'), cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == ["error: argument `seed`: expected an integer in 0..2**63-1, got -1"]
    assert 'Traceback' not in out.stderr

def _run_cmd(cmd, *args, cwd):
    exe = shutil.which(cmd, path=str(BIN)) or cmd
    return subprocess.run([exe, *args], capture_output=True, text=True, cwd=cwd, timeout=600)

def _one_line_error(out, *needles):
    assert out.returncode == 2, (out.returncode, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ') and 'Traceback' not in out.stderr, out.stderr
    for n in needles: assert n in lines[0], lines[0]

def test_synth_train_eval_round_trip(tmp_path):
    out = _run_cmd('attrreid_synth', 'data', '--layout', 'market1501', '--preset', 'tiny', cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith('market1501: train ')
    out = _run_cmd('attrreid_train', 'baseline', 'data', '--preset', 'fast', '--out', 'run', cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    trained = json.loads((tmp_path/'run'/'metrics.json').read_text())
    assert trained['paper'] == 'baseline' and trained['dataset'] == 'market1501' and 0 <= trained['metrics']['mAP'] <= 100
    out = _run_cmd('attrreid_eval', 'run/checkpoint.pth', 'data', '--out', 'eval.json', cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    evaluated = json.loads((tmp_path/'eval.json').read_text())
    assert abs(evaluated['metrics']['mAP'] - trained['metrics']['mAP']) < 1e-2  # the checkpoint is the trained model
    out = _run_cmd('attrreid_eval', 'run/checkpoint.pth', 'data', '--rerank', cwd=tmp_path)
    assert out.returncode == 0 and 'mAP' in json.loads(out.stdout.splitlines()[0]), out.stderr
    # a second run into the same --out is refused in one line, before any training
    _one_line_error(_run_cmd('attrreid_train', 'baseline', 'data', '--preset', 'fast', '--out', 'run', cwd=tmp_path),
                    'already holds results (checkpoint.pth, metrics.json); pass --force')
    _one_line_error(_run_cmd('attrreid_train', 'baseline', 'data', '--preset', 'fast', '--out', 'run', '--resume', cwd=tmp_path),
                    'holds no interrupted run')
    _one_line_error(_run_cmd('attrreid_eval', 'run/checkpoint.pth', 'data', '--out', 'nowhere/eval.json', cwd=tmp_path),
                    'nowhere of eval.json does not exist')

def test_new_commands_fail_in_one_line(tmp_path):
    _one_line_error(_run_cmd('attrreid_synth', 'data', '--layout', 'market', cwd=tmp_path), 'argument `layout`')
    _one_line_error(_run_cmd('attrreid_train', 'bot', 'data', cwd=tmp_path), 'argument `paper`')
    _one_line_error(_run_cmd('attrreid_train', 'baseline', 'no_such_root', '--preset', 'fast', cwd=tmp_path), 'no_such_root')
    _one_line_error(_run_cmd('attrreid_eval', 'missing.pth', 'data', cwd=tmp_path), 'argument `checkpoint`')
    (tmp_path/'junk.pth').write_text('not a checkpoint')
    _one_line_error(_run_cmd('attrreid_eval', 'junk.pth', 'data', cwd=tmp_path), 'not a readable checkpoint')
    import torch
    class _RunsCode:
        def __reduce__(self): return (eval, ("open('RAN_CODE', 'w')",))
    torch.save({'model': _RunsCode()}, tmp_path/'evil.pth')
    _one_line_error(_run_cmd('attrreid_eval', 'evil.pth', 'data', cwd=tmp_path), 'refused to load: it names the Python object')
    assert not (tmp_path/'RAN_CODE').exists()


@pytest.mark.parametrize('paper', ['baseline', 'asmr', 'cerberus', 'mfhi', 'paenet', 'ssan'])
def test_every_paper_checkpoint_round_trip(paper, tmp_path):
    "Each paper's trained model goes into a tensors-and-plain-data checkpoint and evaluates to the same numbers (an LSTM once could not)."
    from attrreid_nb.cli import train_paper, evaluate_checkpoint, PAPER_NEEDS
    from attrreid_nb.data.synth import synthpeds_dataset, SynthConfig
    synthpeds_dataset(tmp_path/'data', PAPER_NEEDS[paper][2][0], SynthConfig.tiny())
    trained = train_paper(paper, tmp_path/'data', preset='fast', out=tmp_path/'run')
    evaluated = evaluate_checkpoint(tmp_path/'run'/'checkpoint.pth', tmp_path/'data')
    shared = [k for k in trained['metrics'] if k in evaluated['metrics'] and isinstance(trained['metrics'][k], float)]
    assert shared and all(abs(trained['metrics'][k] - evaluated['metrics'][k]) < 1e-6 for k in shared)
