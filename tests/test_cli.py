"The console scripts as a user runs them: exit codes, outputs, one-line errors."
import json, shutil, subprocess, sys
import pytest
from pathlib import Path

BIN = Path(sys.executable).parent

def _run(*args, cwd):
    exe = shutil.which('attrreid_reproduce', path=str(BIN)) or 'attrreid_reproduce'
    return subprocess.run([exe, *args], capture_output=True, text=True, cwd=cwd, timeout=600)

PAPERS = ('baseline', 'mfhi', 'paenet', 'asmr', 'cerberus', 'ssan')

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
    # every paper ran once, its time was printed and kept, its run lines were saved where the leaderboard reads them
    assert not res['failed'] and set(res['timing']) == {'environment', 'synthpeds', 'backbone', *PAPERS}
    for p in PAPERS: assert f'[{p}] done in ' in out.stdout and (tmp_path/'run'/'results'/f'{p}_runs.csv').is_file()
    assert res['seconds'] < 180  # --fast: the smoke test stays under 3 minutes
    assert 'predicted: ' in out.stdout and 'stages · ' in out.stdout and ' left' in out.stdout  # the bar and the time left
    # one-epoch runs are never judged converged, and the leaderboard says so wherever they appear
    assert set(res['leaderboard']) == {'attribute→image', 'image→attribute', 'image→image', 'infrared→visible', 'text→image'}
    cells = [v for t in res['leaderboard'].values() for row in t.values() for k, v in row.items() if k not in ('role', 'seeds', 'converged', 'notes') and v]
    assert cells and all('†' in v for v in cells)
    assert 'Verdicts' in out.stdout and 'saved reproductions' in out.stdout
    # a second run predicts its time from the first one's measured stage times
    out2 = _run('--fast', '--out', str(tmp_path/'run'), '--workers', '1', cwd=tmp_path)
    assert out2.returncode == 0, out2.stderr
    res2 = json.loads((tmp_path/'run'/'results.json').read_text())
    assert res2['workers'] == 1 and all(res2['expected'][s] == res['timing'][s] for s in res['timing'])
    assert 'no estimate' not in out2.stdout

def test_reproduce_bad_workers_is_one_line_error(tmp_path):
    _one_line_error(_run('--fast', '--workers', '0', '--out', str(tmp_path/'run'), cwd=tmp_path), 'argument `workers`')
    assert not (tmp_path/'run').exists()  # refused before anything was written

def test_leaderboard_flags_non_converged_and_lists_missing(tmp_path):
    "The leaderboard from hand-built runs files: a failed run is flagged, a paper without files is listed, the floors are rows."
    import pandas as pd
    from attrreid_nb.benchmark import leaderboard, leaderboard_status, expected_seconds, BENCHMARK_METHODS, DAGGER, NOT_RUN
    line = lambda row, seed, ok, **kw: dict(row=row, seed=seed, converged=ok, seconds=100. + seed, **kw)
    pd.DataFrame([line('+ BNNeck', s, s != 1, R1=60. + s, mAP=50., mINP=20.) for s in range(3)]).to_csv(tmp_path/'baseline_runs.csv', index=False)
    pd.DataFrame([line('SSAN', s, True, collapsed=s == 0, R1=20., R5=40., R10=50., mAP=20., mINP=9.) for s in range(2)]).to_csv(tmp_path/'ssan_runs.csv', index=False)
    pd.DataFrame([('image_to_image', 'chance', 'mAP', 0.4), ('image_to_image', 'pca_lda', 'mAP', 11.7), ('image_to_image', 'attribute_oracle', 'mAP', 80.),
                  ('text_to_image', 'chance', 'R1', 0.2)], columns=['task', 'method', 'metric', 'value']).to_csv(tmp_path/'synthpeds_floors.csv', index=False)
    board = leaderboard(tmp_path)
    ii, ti = board['image→image'], board['text→image']
    assert ii.loc['BoT', 'R1'] == f'61.0 ± 1.0 {DAGGER}' and ii.loc['BoT', 'converged'] == '2/3' and ii.loc['BoT', 'seeds'] == 3
    assert ti.loc['SSAN', 'R1'] == f'20.0 ± 0.0 {DAGGER}' and ti.loc['SSAN', 'converged'] == '1/2'  # converged but collapsed: not passed
    assert ii.loc['MFHI', 'notes'] == NOT_RUN and ii.loc['Cerberus', 'notes'] == NOT_RUN  # listed, never dropped
    assert list(ii.index[-3:]) == ['chance', 'floor: pca_lda', 'oracle: attribute_oracle'] and ii.loc['floor: pca_lda', 'mAP'] == '11.7'
    assert ti.loc['chance', 'R1'] == '0.2'
    assert leaderboard(tmp_path, converged_only=True)['image→image'].loc['BoT', 'R1'] == '61.0 ± 1.4'  # seeds 0 and 2 only
    status = leaderboard_status(tmp_path)
    assert list(status.index) == [m.name for m in BENCHMARK_METHODS] and (status.status == NOT_RUN).sum() == len(BENCHMARK_METHODS) - 2
    assert expected_seconds(BENCHMARK_METHODS[0], tmp_path) == 101.0

def test_time_left_arithmetic():
    "The time left of a fake job: stages start on the first free worker, running ones end at their expected seconds."
    from attrreid_nb.cli import time_left, schedule_papers, progress_text
    exp = dict(a=10., b=30., c=20., d=None)
    assert schedule_papers(list(exp), exp) == ['d', 'b', 'c', 'a']
    assert time_left(exp, ['a', 'b', 'c']) == (60., [])
    assert time_left(exp, ['b', 'c', 'a'], workers=2) == (30., [])
    assert time_left(exp, ['a', 'c'], running={'b': 25.}, workers=2) == (25., [])
    assert time_left(exp, ['d', 'a']) == (10., ['d'])
    assert progress_text(2, 4, 120., 90., ['d'], width=8) == '[####----] 2/4 stages · 2.0 min elapsed · about 1.5 min left + d (no estimate)'

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


def test_stages_that_skip_the_stand_in_train_from_scratch():
    "PAENet and SSAN run while the stand-in trains, which is only sound if their presets never load it."
    from attrreid_nb.cli import STAGE_NEEDS, PAPER_STAGES, next_stage, schedule_papers
    from attrreid_nb.paenet import PAENetConfig
    from attrreid_nb.ssan import SsanConfig
    from attrreid_nb.cerberus import CerberusConfig
    free = [s for s in PAPER_STAGES if 'backbone' not in STAGE_NEEDS.get(s, ())]
    assert sorted(free) == ['paenet', 'ssan']
    assert PAENetConfig.synth_cpu().pretrained is False and SsanConfig.synth_cpu().pretrained is False
    assert CerberusConfig.synth_v2().pretrained is True  # so Cerberus must wait
    order = schedule_papers(['backbone', *PAPER_STAGES], {s: 100. for s in PAPER_STAGES})
    assert order[0] == 'backbone'
    pending = set(order)
    started = [next_stage(order, pending) for _ in range(1)]
    assert started == ['backbone']
    rest = [s for s in order if s != 'backbone']
    assert next_stage(rest, pending) in ('paenet', 'ssan')  # while the stand-in is pending, only the free stages start
