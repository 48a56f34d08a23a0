"Contract tests for `attrreid_nb.data.attributes`: the API other modules (SynthPeds, readers, papers) import."
import numpy as np
import pytest
from attrreid_nb.core import AttrReIDError
from attrreid_nb.data.attributes import (Attribute, AttributeSchema, MARKET1501, DUKEMTMC, PETA, PA100K, SYSU_PAENET,
    CELEBA, MAT_FIELD_ORDERS, MISSING, get_schema, mfhi_encode, AsmrEncoder, CategoryCodec, cerberus_codec)


def test_schema_sizes_match_the_papers():
    assert [len(s) for s in (MARKET1501, DUKEMTMC, PETA, PA100K, SYSU_PAENET, CELEBA)] == [27, 23, 35, 26, 8, 40]
    assert AsmrEncoder(MARKET1501).dims == AsmrEncoder(MARKET1501, 'official').dims == 39
    assert mfhi_encode(np.zeros((1, 27), int), MARKET1501).shape == (1, 35)
    assert mfhi_encode(np.zeros((1, 23), int), DUKEMTMC).shape == (1, 26)
    assert sum(cerberus_codec(MARKET1501).n_ids.values()) == 72
    assert sum(cerberus_codec(DUKEMTMC).n_ids.values()) == 56


def test_mat_round_trip_through_the_test_field_order():
    "A `.mat`-style matrix stored in the `test` field order comes back in schema order with 0-based codes."
    rng = np.random.default_rng(0)
    codes = np.stack([rng.integers(0, a.n_values, 20) for a in MARKET1501], 1)  # schema order, 0-based
    test_order = MAT_FIELD_ORDERS['market1501']['test']
    stored = MARKET1501.to_mat_codes(codes)[:, [MARKET1501.index(n) for n in test_order]]  # as the .mat test struct holds it
    back = MARKET1501.from_mat_codes(stored[:, MARKET1501.permutation(test_order)])
    np.testing.assert_array_equal(back, codes)


def test_bad_input_names_the_attribute():
    with pytest.raises(AttrReIDError, match='attribute `age`'):
        MARKET1501.encode({**{n: 0 for n in MARKET1501.names}, 'age': 'baby'})
    with pytest.raises(AttrReIDError, match="unknown attribute 'colour'"):
        MARKET1501.encode({'colour': 1}, allow_missing=True)
    with pytest.raises(AttrReIDError, match='fold `downcolor`'):
        cerberus_codec(MARKET1501).ids(np.zeros(27, int))  # no lower colour at all under the strict fold
    with pytest.raises(AttrReIDError, match='argument `name`'):
        get_schema('viper')


def test_codec_seen_unseen_and_partial_queries():
    codec = CategoryCodec(SYSU_PAENET, parts={g: n for g, n in SYSU_PAENET.groups.items()})
    train = np.zeros((3, 8), int); train[1, 0] = 1
    codec.fit(train, pids=[0, 1, 2])
    test = np.zeros((2, 8), int); test[1, 6] = 1  # a backpack never seen in training
    seen = codec.is_seen(codec.ids(test))
    assert seen[0].all() and not seen[1, list(codec.parts).index('carrying')]
    q = codec.ids(SYSU_PAENET.encode({'gender': 'male'}, allow_missing=True), allow_missing=True)
    assert (q == MISSING).sum() == len(codec.parts) - 1
    assert codec.relevance(q[None], codec.ids(test)).all()
