"""FAISS indexes: exact and compressed, atomic saves, damaged files rebuilt rather than trusted."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from service.matching.indexes import IndexSet, VectorIndex


def unit(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_exact_search_finds_each_vector_first_and_survives_a_reload(tmp_path: Path) -> None:
    vectors = unit(200)
    index = VectorIndex(tmp_path / "a.faiss", 32, exact_max=1000)
    index.add(np.arange(100, 300), vectors)
    index.add(np.arange(100, 110), vectors[:10])  # adding an id twice keeps one copy
    hits = index.search(vectors[:5], 3)
    assert [h[0].id for h in hits] == [100, 101, 102, 103, 104]
    assert all(abs(h[0].score - 1) < 1e-5 for h in hits) and index.size == 200 and index.exact
    index.save()
    again = VectorIndex(tmp_path / "a.faiss", 32, exact_max=1000)
    assert sorted(again.ids().tolist()) == list(range(100, 300))


def test_past_the_size_limit_the_index_is_compressed_and_still_finds_neighbours(tmp_path: Path) -> None:
    vectors = unit(3000, seed=1)
    index = VectorIndex(tmp_path / "b.faiss", 32, exact_max=500)
    index.rebuild(np.arange(3000), vectors)
    assert not index.exact and index.size == 3000
    found = [hits[0].id for hits in index.search(vectors[:50], 1)]
    assert np.mean(np.array(found) == np.arange(50)) > 0.8


def test_a_damaged_or_foreign_index_file_is_replaced_by_an_empty_one(tmp_path: Path) -> None:
    (tmp_path / "c.faiss").write_bytes(b"not faiss")
    assert VectorIndex(tmp_path / "c.faiss", 32, exact_max=10).size == 0
    other = VectorIndex(tmp_path / "d.faiss", 16, exact_max=10)
    other.add(np.array([1]), unit(1, 16))
    other.save()
    assert VectorIndex(tmp_path / "d.faiss", 32, exact_max=10).size == 0


def test_empty_index_answers_empty_and_sets_are_per_model(tmp_path: Path) -> None:
    indexes = IndexSet(tmp_path, model_sha256="ab" * 32, dim=32, exact_max=10)
    assert indexes["scans"].search(unit(2), 5) == [[], []]
    indexes.save()
    assert sorted(p.name for p in (tmp_path / ("ab" * 8)).iterdir()) == [
        "listings.faiss",
        "model.txt",
        "scans.faiss",
    ]
