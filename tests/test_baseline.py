"The BoT baseline end to end: the reproduce stage in fast mode, data reuse, and bad data roots."
import json
import pytest
import torch
from attrreid_nb.core import AttrReIDError
from attrreid_nb.baseline import BaselineConfig, baseline_stage, synthpeds_market, train_baseline
from attrreid_nb.data.synth import SynthConfig

torch.set_num_threads(1)

def test_baseline_stage_fast(tmp_path):
    res = baseline_stage(tmp_path, fast=True, seed=1)
    assert res['preset'] == 'tiny' and res['version'] == 'synthpeds-v2' and res['seeds'] == [1]
    row = res['ladder']['+ BNNeck']
    assert set(row) == {'R1', 'mAP', 'mINP'} and all('±' in v for v in row.values())
    cal = res['calibration']
    assert cal['calibrated'] == (cal['R1_ok'] and cal['attributes_not_saturated'])
    json.dumps(res)  # goes into results.json as it is
    marker = tmp_path/'data'/'Market-1501-v15.09.15'/'SYNTHPEDS.json'
    stamp = marker.stat().st_mtime_ns
    synthpeds_market(tmp_path/'data', SynthConfig.tiny(), seed=0)  # the stage's world (the frozen seed 0) is reused
    assert marker.stat().st_mtime_ns == stamp

def test_refuses_to_overwrite_a_real_dataset(tmp_path):
    real = tmp_path/'Market-1501-v15.09.15'/'query'
    real.mkdir(parents=True)
    (real/'0001_c1s1_000151_01.jpg').write_bytes(b'not synthetic')
    with pytest.raises(AttrReIDError, match='not written by SynthPeds'):
        synthpeds_market(tmp_path, SynthConfig.tiny())
    assert (real/'0001_c1s1_000151_01.jpg').read_bytes() == b'not synthetic'

def test_missing_dataset_names_the_folder(tmp_path):
    with pytest.raises(AttrReIDError, match='Market-1501-v15.09.15'):
        train_baseline(BaselineConfig.tiny(), tmp_path)
