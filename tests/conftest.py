"Fixtures shared by the test files."
import pytest
from attrreid_nb.data.synth import SynthConfig, make_world, write_market1501
from attrreid_nb.data.readers import read_dataset


@pytest.fixture(scope='session')
def gpu_preset_market(tmp_path_factory):
    "A handful of SynthPeds GPU-preset (256×128) images in the Market-1501 layout, written once per test session."
    cfg = SynthConfig.gpu(n_train_ids=4, n_val_ids=0, n_test_ids=3, n_categories=6, cameras_per_id=(3, 3),
                          images_per_camera=(1, 1), n_junk=1, n_distractors=1)
    root = tmp_path_factory.mktemp('market_gpu')
    write_market1501(make_world(cfg, seed=0), root)
    return read_dataset('market1501', root)
