"PAENet's attribute release formats (SYSU-MM01 `sysu_attribute/cam{1..6}_att.mat`, RegDB `regdb_attribute/label_finished.xlsx`): readers, SynthPeds writers."
import json, shutil
import numpy as np, openpyxl, pytest, scipy.io
from attrreid_nb.core import AttrReIDError
from attrreid_nb.data.attributes import SYSU_PAENET, MISSING
from attrreid_nb.data.synth import SynthConfig, synthpeds_dataset
from attrreid_nb.data.readers import read_dataset, read_sysu_mm01, read_sysu_attribute_mats, SYSU_ATTRIBUTE_K
from attrreid_nb.data.readers import (read_regdb, read_regdb_attribute_groups, read_regdb_attribute_workbook,
                                      write_regdb_attribute_workbook, REGDB_WORKBOOK_PATH)


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


# RegDB: PAENet's `regdb_attribute/label_finished.xlsx` (one row per identity, 'ID' + 26 one-hot columns)

# The release's header, typed out from PAENet_Attribute.zip (sic: '性别（女' has no closing bracket)
OFFICIAL_HEADER = ['ID', '性别（男）', '性别（女', '年龄（0-15）', '年龄（15-25）', '年龄（25-40）', '年龄（40岁以上）', '头发（长）',
                   '头发（短）', '衣服长度（长）', '衣服长度（正常）', '衣服长度（短）', '裤子长度（短）', '裤子长度（中）', '裤子长度（长）',
                   '鞋子（暴露脚的）', '鞋子（密封的）', '背包（有）', '背包（无）', '肩包（有）', '肩包（无）', '手包（有）', '手包（无）',
                   '帽子（有）', '帽子（无）', '眼镜（有）', '眼镜（无）']
GROUP_SIZES = [2, 4, 2, 3, 3, 2, 2, 2, 2, 2, 2]


def _official_workbook(path, rows):
    "`rows` = {pid: set of marked headers}, laid out as the release: Sheet1 (header, '<pid:04d>', 1 or blank), empty Sheet2, Sheet3."
    wb = openpyxl.Workbook(); ws = wb.active; ws.title = 'Sheet1'
    ws.append(OFFICIAL_HEADER)
    for pid, on in rows.items(): ws.append([f'{pid:04d}'] + [1 if h in on else None for h in OFFICIAL_HEADER[1:]])
    wb.create_sheet('Sheet2'); wb.create_sheet('Sheet3')
    path.parent.mkdir(parents=True, exist_ok=True); wb.save(path)
    return path


MAN = {'性别（男）', '年龄（25-40）', '头发（短）', '衣服长度（正常）', '裤子长度（长）', '鞋子（密封的）', '背包（无）', '肩包（无）',
       '手包（无）', '帽子（无）', '眼镜（有）'}
WOMAN_IN_A_SHORT_DRESS = {'性别（女', '年龄（15-25）', '头发（长）', '衣服长度（短）', '裤子长度（中）', '鞋子（暴露脚的）', '背包（有）',
                          '肩包（有）', '手包（无）', '帽子（无）', '眼镜（无）'}


def _cells(path):
    return {ws.title: [[(c.value, c.data_type) for c in row] for row in ws.iter_rows()] for ws in openpyxl.load_workbook(path)}


def test_official_format_round_trip(tmp_path):
    book = _official_workbook(tmp_path/'a'/'label_finished.xlsx', {6: MAN, 85: WOMAN_IN_A_SHORT_DRESS})
    t = read_regdb_attribute_workbook(book)
    # gender, hair, glasses, up (no column: MISSING), clothes, down, backpack, satchel
    assert t == {6: (0, 0, 1, MISSING, 1, 0, 0, 0), 85: (1, 1, 0, MISSING, 0, 1, 1, 1)}
    groups = read_regdb_attribute_groups(book)
    assert groups[85]['age'] == '15-25' and groups[85]['trouser length'] == 'medium' and groups[6]['shoes'] == 'closed'
    copy = write_regdb_attribute_workbook(tmp_path/'b'/'label_finished.xlsx', groups)
    assert _cells(copy) == _cells(book)  # the writer reproduces the release's layout cell for cell (value and type)
    assert read_regdb_attribute_workbook(copy) == t
    assert copy.read_bytes() == write_regdb_attribute_workbook(tmp_path/'c.xlsx', groups).read_bytes()


def test_workbook_errors_name_the_file_and_what_was_expected(tmp_path):
    def broken(name, change):
        p = _official_workbook(tmp_path/name, {6: MAN, 85: WOMAN_IN_A_SHORT_DRESS})
        wb = openpyxl.load_workbook(p); change(wb['Sheet1']); wb.save(p)
        return p
    p = broken('header.xlsx', lambda ws: ws.__setitem__('J1', '衣长（长）'))
    with pytest.raises(AttrReIDError, match=r"header\.xlsx: header of group `clothing length`, columns J–L: expected \['衣服长度（长）'"):
        read_regdb_attribute_workbook(p)
    p = broken('dup.xlsx', lambda ws: ws.__setitem__('A3', '0006'))
    with pytest.raises(AttrReIDError, match=r"dup\.xlsx: row 3: ID '0006' repeats id 6 of row 2"): read_regdb_attribute_workbook(p)
    p = broken('twohot.xlsx', lambda ws: ws.__setitem__('C2', 1))  # id 6 marked male and female
    with pytest.raises(AttrReIDError, match=r"twohot\.xlsx: row 2 \(id 6\): group `gender` is not one-hot: 2 columns marked \(male, female\)"):
        read_regdb_attribute_workbook(p)
    p = broken('nohot.xlsx', lambda ws: ws.__setitem__('N3', None))  # id 85: no trouser length (as the release's id 0085)
    with pytest.raises(AttrReIDError, match=r"row 3 \(id 85\): group `trouser length` is not one-hot: no column marked"):
        read_regdb_attribute_workbook(p)
    notes = []
    assert read_regdb_attribute_workbook(p, strict=False, notes=notes)[85][5] == MISSING and 'id 85 trouser length' in notes[0]
    p = broken('cell.xlsx', lambda ws: ws.__setitem__('Z2', 'yes'))
    with pytest.raises(AttrReIDError, match=r"cell Z2 \(眼镜（有）\): expected 1 or blank"): read_regdb_attribute_workbook(p)


@pytest.fixture(scope='module')
def tiny_regdb(tmp_path_factory):
    root = tmp_path_factory.mktemp('regdb')
    synthpeds_dataset(root, 'regdb', SynthConfig.tiny(regdb_ids=12), seed=0)
    return root


def test_synthpeds_v2_writes_the_regdb_workbook(tiny_regdb, tmp_path):
    base = tiny_regdb/'RegDB'
    wb = openpyxl.load_workbook(base/'regdb_attribute'/'label_finished.xlsx')
    assert wb.sheetnames == ['Sheet1', 'Sheet2', 'Sheet3'] and wb['Sheet2'].max_row == wb['Sheet3'].max_row == 1
    rows = [[c.value for c in r] for r in wb['Sheet1'].iter_rows()]
    assert rows[0] == OFFICIAL_HEADER
    pids = sorted(int(p.name) for p in (base/'Visible').iterdir())
    assert [r[0] for r in rows[1:]] == [f'{p:04d}' for p in pids]  # one row per RegDB person, ids as text
    for r in rows[1:]:
        assert set(r[1:]) <= {1, None}
        k = 1
        for n in GROUP_SIZES: assert sum(v == 1 for v in r[k:k + n]) == 1; k += n  # every group one-hot
    labels = json.loads((base/'attributes.json').read_text())['labels']
    table = read_regdb_attribute_workbook(base/REGDB_WORKBOOK_PATH)
    for p, vec in table.items():  # everything but sleeve length from the workbook alone
        assert vec[3] == MISSING and list(vec[:3] + vec[4:]) == labels[f'{p:04d}'][:3] + labels[f'{p:04d}'][4:]
    # read_dataset prefers the workbook (attributes.json fills sleeve length): the same attributes as attributes.json alone
    json_only = tmp_path/'json_only'; shutil.copytree(tiny_regdb, json_only); shutil.rmtree(json_only/'RegDB'/'regdb_attribute')
    for trial in (1, 2):
        a, b = read_dataset('regdb', tiny_regdb, trial=trial), read_dataset('regdb', json_only, trial=trial)
        assert a.notes == [] and a.attribute_schema is SYSU_PAENET
        for split in ('train', 'query', 'gallery'):
            assert [r.attributes for r in getattr(a, split)] == [r.attributes for r in getattr(b, split)]
            assert all(list(r.attributes) == labels[f'{r.orig_pid:04d}'] for r in getattr(a, split))


def test_regdb_workbook_alone_and_disagreements(tiny_regdb, tmp_path):
    root = tmp_path/'r'; shutil.copytree(tiny_regdb, root)
    base = root/'RegDB'
    labels = json.loads((base/'attributes.json').read_text())['labels']
    groups = read_regdb_attribute_groups(base/REGDB_WORKBOOK_PATH)
    pid = min(groups)
    groups[pid]['glasses'] = 'no' if groups[pid]['glasses'] == 'yes' else 'yes'
    write_regdb_attribute_workbook(base/REGDB_WORKBOOK_PATH, groups)
    with pytest.warns(UserWarning, match='disagree on 1 value'): ds = read_regdb(root)
    rec = next(r for r in ds.train + ds.query + ds.gallery if r.orig_pid == pid)
    assert rec.attributes[2] == 1 - labels[f'{pid:04d}'][2]  # the workbook's value wins
    (base/'attributes.json').unlink()
    with pytest.warns(UserWarning, match='`up` for'): ds = read_regdb(root)
    assert all(r.attributes[3] == MISSING for r in ds.train)


def test_v1_regdb_has_no_workbook(tmp_path):
    synthpeds_dataset(tmp_path, 'regdb', SynthConfig.tiny(version='synthpeds-v1', crop_jitter=0.0, articulation=0.0, unseen_sids=False), seed=0)
    assert not (tmp_path/'RegDB'/'regdb_attribute').exists() and (tmp_path/'RegDB'/'attributes.json').is_file()
