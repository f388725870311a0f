"""Starting values (lavaan ``lav_start``-like, "simple" plus a first-principal-component
loading per factor): loadings from the leading eigenvector of each factor's indicator
correlations, residual variances half the observed variances, factor variances that
match the marker loading, intercepts at the sample means."""

from __future__ import annotations

import numpy as np

from .ml import GroupMoments
from .specification import ModelSpec

__all__ = ["start_values"]


def start_values(spec: ModelSpec, moments: list[GroupMoments]) -> np.ndarray:
    sums = np.zeros(spec.n_free)
    counts = np.zeros(spec.n_free)
    li = {v: i for i, v in enumerate(spec.lv)}
    for g, mom in enumerate(moments):
        S = mom.cov
        rows = [r for r in spec.rows if r.group == g]
        sd = np.sqrt(np.diag(S))
        lam_std = {}
        scale = {}
        for f in spec.lv:
            ind = [r for r in rows if r.mat == "L" and r.c == li[f]]
            if not ind:
                continue
            idx = [r.r for r in ind]
            R = S[np.ix_(idx, idx)] / np.outer(sd[idx], sd[idx])
            vals, vecs = np.linalg.eigh(R)
            v = vecs[:, -1] * np.sqrt(max(vals[-1], 1e-6))
            marker = next((k for k, r in enumerate(ind) if r.value not in (None, 0.0)), None)
            ref = marker if marker is not None else 0
            v = v * (1 if v[ref] >= 0 else -1)
            # keep the sign: reverse-keyed items load negatively (clipping to > 0 starts in a wrong basin)
            v = np.sign(v) * np.clip(np.abs(v), 0.05, 0.95) if len(idx) > 1 else np.array([0.7])
            lam = v * sd[idx]
            if marker is not None:
                fixed = ind[marker].value
                s = lam[marker] / fixed
                lam, scale[f] = lam / s, s * s
            else:
                scale[f] = 1.0
            for k, r in enumerate(ind):
                lam_std[(r.r, r.c)] = lam[k]
        for r in rows:
            if r.free == 0:
                continue
            if r.start is not None:
                val = r.start
            elif r.mat == "L":
                val = lam_std.get((r.r, r.c), 0.5)
            elif r.mat == "T":
                val = 0.5 * S[r.r, r.r] if r.r == r.c else 0.0
            elif r.mat == "P":
                name = spec.lv[r.r]
                if r.r != r.c:
                    val = 0.0
                elif name in spec.endogenous:
                    val = 0.5 * scale.get(name, 0.5)
                else:
                    val = scale.get(name, 0.05) if name not in spec.endogenous else 0.05
                    if not any(rr.mat == "L" and rr.c == r.r for rr in rows):
                        # a second-order factor: half the mean variance of the factors it explains
                        kids = [spec.lv[rr.r] for rr in rows if rr.mat == "B" and rr.c == r.r]
                        val = 0.5 * float(np.mean([scale.get(k, 0.5) for k in kids])) if kids else 0.05
            elif r.mat == "B":
                val = 1.0
            elif r.mat == "N":
                val = mom.mean[r.r]
            else:
                val = 0.0
            sums[r.free - 1] += val
            counts[r.free - 1] += 1
    return sums / np.maximum(counts, 1)
