"End-to-end checks of `attrreid_nb.data.loaders` that do not belong in the notebook: worker processes, bad files on disk."
import numpy as np, pytest, torch
from attrreid_nb.core import AttrReIDError, ReIDRecord
from attrreid_nb.data.loaders import (check_pk_batches, reid_dataloaders, write_fixture_images, SampledDL, PKSampler,
                                      ReIDItems, TARGET_NAMES)


@pytest.fixture(scope='module')
def records(tmp_path_factory):
    return write_fixture_images(tmp_path_factory.mktemp('fixture'), n_ids=12)


def _pids(dl): return [b[1].tolist() for b in dl]


def test_workers_keep_the_sampler_batches(records):
    "With worker processes the loader yields exactly the batches it yields in the main process."
    kw = dict(size=(32, 16), P=3, K=2, seed=7, device='cpu', cache=False)
    serial = _pids(reid_dataloaders(records, **kw).train)
    parallel = _pids(reid_dataloaders(records, num_workers=2, **kw).train)
    assert serial == parallel and len(serial) > 1
    labels = np.concatenate(serial)
    check_pk_batches([list(range(i * 6, (i + 1) * 6)) for i in range(len(serial))], labels, 3, 2)


def test_unreadable_image_names_the_file(records, tmp_path):
    "A corrupt file on disk surfaces as an `AttrReIDError` naming it, through the fastai loader."
    bad = tmp_path / '0099_c1_00.jpg'
    bad.write_bytes(b'\xff\xd8 truncated')
    recs = list(records) + [ReIDRecord(str(bad), 99, 0)] * 2
    dls = reid_dataloaders(recs, size=(32, 16), P=13, K=2, device='cpu')
    with pytest.raises(AttrReIDError, match='0099_c1_00.jpg: cannot read the image'):
        for _ in dls.train: pass


def test_every_target_collates_to_int64(records):
    from attrreid_nb.data.loaders import CaptionVocab
    vocab = CaptionVocab.build([r.captions[0] for r in records], min_freq=1)
    dls = reid_dataloaders(records, size=(32, 16), P=2, K=2, targets=TARGET_NAMES, vocab=vocab, max_len=9, device='cpu')
    x, pid, camid, modality, attrs, caption = dls.train.one_batch()
    assert x.shape == (4, 3, 32, 16) and x.dtype == torch.float32
    assert all(t.dtype == torch.int64 for t in (pid, camid, modality, attrs, caption))
    assert attrs.shape == (4, 4) and caption.shape == (4, 9)
