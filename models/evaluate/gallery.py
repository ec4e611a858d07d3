"""X-ray-to-x-ray nearest neighbour against a labelled gallery, in a real FAISS index.

This is the path inspectors' labelled x-rays will feed: what does this scan most resemble?
"""

from __future__ import annotations

import faiss
import numpy as np


def nn_category_accuracy(
    gallery: np.ndarray, gallery_labels: list[str], queries: np.ndarray, query_labels: list[str], k: int = 1
) -> dict[str, float]:
    """Top-1 category accuracy (and top-k majority vote) of query x-rays against the gallery."""
    index = faiss.IndexFlatIP(gallery.shape[1])  # inner product = cosine on normalised rows
    index.add(np.ascontiguousarray(gallery, dtype=np.float32))
    _, ids = index.search(np.ascontiguousarray(queries, dtype=np.float32), max(k, 5))
    labels = np.asarray(gallery_labels)
    truth = np.asarray(query_labels)
    top1 = float((labels[ids[:, 0]] == truth).mean())
    votes = []
    for row, want in zip(ids[:, :5], truth, strict=True):
        names, counts = np.unique(labels[row], return_counts=True)
        votes.append(names[np.argmax(counts)] == want)
    return {
        "top1_accuracy": top1,
        "top5_vote_accuracy": float(np.mean(votes)),
        "n_queries": int(len(truth)),
        "n_gallery": int(len(labels)),
    }
