"PAENet's attribute release format (SYSU-MM01 `sysu_attribute/cam{1..6}_att.mat`): reader, per-camera labels, SynthPeds writer."
import json, shutil
import numpy as np, pytest, scipy.io
from attrreid_nb.core import AttrReIDError
from attrreid_nb.data.attributes import SYSU_PAENET
from attrreid_nb.data.synth import SynthConfig, synthpeds_dataset
from attrreid_nb.data.readers import read_dataset, read_sysu_mm01, read_sysu_attribute_mats, SYSU_ATTRIBUTE_K


@pytest.fixture(scope='module')
def tiny_sysu(tmp_path_factory):
    root = tmp_path_factory.mktemp('sysu')
    synthpeds_dataset(root, 'sysu_mm01', SynthConfig.tiny(), seed=0)
    return root


def _release(base, table, K=SYSU_ATTRIBUTE_K):
    "Write `table[(cam, pid)]` in exactly the release's format: `cam{N}_att` uint8 (8, K_N), column pid − 1."
    d = base/'sysu_attribute'
    if d.exists(): shutil.rmtree(d)
    d.mkdir()
    for cam, k in K.items():
        a = np.zeros((8, k), np.uint8)
        for (c, pid), vec in table.items():
            if c == cam and pid <= k: a[:, pid - 1] = vec
        scipy.io.savemat(d/f'cam{cam}_att.mat', {f'cam{cam}_att': a})
    return d


def test_synthpeds_v2_writes_the_release_format(tiny_sysu):
    base = tiny_sysu/'SYSU-MM01'
    labels = json.loads((base/'attributes.json').read_text())['labels']
    for cam in range(1, 7):
        m = scipy.io.loadmat(base/'sysu_attribute'/f'cam{cam}_att.mat')
        a = m[f'cam{cam}_att']
        assert a.dtype == np.uint8 and a.shape[0] == 8
        pids = [int(p.name) for p in (base/f'cam{cam}').iterdir()]
        assert a.shape[1] == max(pids)  # K = the camera's largest id
        for pid in pids: assert a[:, pid - 1].tolist() == labels[f'{pid:04d}']  # column pid − 1
    ds = read_dataset('sysu_mm01', tiny_sysu)  # the release wins over attributes.json; on SynthPeds they agree
    for r in ds.train + ds.query + ds.gallery: assert list(r.attributes) == labels[f'{r.orig_pid:04d}']


def test_v1_layout_has_no_release_files(tmp_path):
    synthpeds_dataset(tmp_path, 'sysu_mm01', SynthConfig.tiny(version='synthpeds-v1', crop_jitter=0.0, articulation=0.0, unseen_sids=False), seed=0)
    assert not (tmp_path/'SYSU-MM01'/'sysu_attribute').exists() and (tmp_path/'SYSU-MM01'/'attributes.json').is_file()


def test_per_camera_labels_in_the_official_shapes(tiny_sysu, tmp_path):
    root = tmp_path/'r'; shutil.copytree(tiny_sysu, root)
    base = root/'SYSU-MM01'
    labels = {int(k): v for k, v in json.loads((base/'attributes.json').read_text())['labels'].items()}
    q = read_sysu_mm01(root, attributes=False).query[0]
    pid, cam = q.orig_pid, q.camid + 1
    table = {(c, p): v for c in range(1, 7) for p, v in labels.items()}
    flipped = list(labels[pid]); flipped[2] = 1 - flipped[2]  # glasses seen differently in this query's camera
    table[cam, pid] = flipped
    _release(base, table)
    t = read_sysu_attribute_mats(base/'sysu_attribute')
    assert len(t) == sum(SYSU_ATTRIBUTE_K.values()) and t[cam, pid] == tuple(flipped)
    ds = read_sysu_mm01(root)
    for r in ds.query + ds.train + ds.gallery:
        if r.orig_pid == pid: assert list(r.attributes) == (flipped if r.camid + 1 == cam else labels[pid])


def test_missing_or_malformed_release_files(tiny_sysu, tmp_path):
    root = tmp_path/'r'; shutil.copytree(tiny_sysu, root)
    d = root/'SYSU-MM01'/'sysu_attribute'
    (d/'cam4_att.mat').unlink()
    with pytest.raises(AttrReIDError, match='cam4_att.mat'): read_sysu_mm01(root)
    assert read_sysu_mm01(root, attributes=False).attribute_schema is None
    scipy.io.savemat(d/'cam4_att.mat', {'cam4_att': np.zeros((8, 533), np.float64) + 0.5})
    with pytest.raises(AttrReIDError, match='non-integer'): read_sysu_mm01(root)
    scipy.io.savemat(d/'cam4_att.mat', {'cam4_att': np.full((8, 533), 3, np.uint8)})
    with pytest.raises(AttrReIDError, match='column 0'): read_sysu_mm01(root)
    scipy.io.savemat(d/'cam4_att.mat', {'cam4_att': np.zeros((26, 533), np.uint8)})
    with pytest.raises(AttrReIDError, match=r'shape \(26, 533\)'): read_sysu_mm01(root)
