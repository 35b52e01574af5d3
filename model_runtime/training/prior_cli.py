"""``prior``: measure and refit a trained model's per-gloss latent prior, without retraining.

    python -m model_runtime prior --checkpoint RUN --data DATASET_DIR                  # compare kernels
    python -m model_runtime prior --checkpoint RUN --data DATASET_DIR --bandwidth 0.7 --write

Encodes the training clips (the prior's centres) and the held-out test clips of the dataset the
model was trained on, then prints, for each candidate kernel (diagonal or correlated, each
bandwidth), the mean log-likelihood of the held-out posterior means under their own gloss's
kernel: the better a prior covers clips it was not fitted on, the more of the real variation of
a sign its samples reach. ``--write`` replaces the model's ``latent_prior.safetensors`` with the
chosen kernel (atomically; the weights are untouched) and updates the model card's sampling row.
"""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser(
        "prior", help="compare and refit the per-gloss latent prior of a trained model (no retraining)",
        description="Held-out log-likelihood of test-clip posteriors under candidate per-gloss priors "
                    "(diagonal or correlated kernel, several bandwidths); --write stores one in the model folder.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--checkpoint", required=True, metavar="RUN", help="trained model folder")
    p.add_argument("--data", required=True, metavar="DIR", help="the dataset the model was trained on")
    p.add_argument("--bandwidths", default="0.5,0.7,1.0", help="comma-separated bandwidths to compare")
    p.add_argument("--bandwidth", type=float, default=None, help="the bandwidth to write (with --write)")
    p.add_argument("--diagonal", action="store_true", help="write the diagonal kernel (R = I)")
    p.add_argument("--write", action="store_true", help="replace the model's latent prior with the chosen one")
    p.add_argument("--threads", type=int, default=2, help="CPU threads for torch")
    p.set_defaults(func=run)


def run(args) -> int:
    import numpy as np
    import torch

    from ..data.dataset import SignDataset
    from ..errors import SignAvatarError
    from ..model.checkpoint import load_model
    from ..model.latent_prior import PRIOR_FILE, GlossPrior
    from .data import load_clips
    from .posteriors import encode_posteriors

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    try:
        bandwidths = [float(b) for b in args.bandwidths.split(",") if b.strip()]
    except ValueError:
        raise SignAvatarError(f"--bandwidths must be comma-separated numbers, got {args.bandwidths!r}") from None
    if args.bandwidth is not None:
        bandwidths = sorted(set(bandwidths) | {args.bandwidth})
    if not bandwidths or min(bandwidths) < 0:
        raise SignAvatarError("--bandwidths must be numbers >= 0")
    if args.write and args.bandwidth is None:
        raise SignAvatarError("--write needs --bandwidth (the kernel to store)")
    model = load_model(args.checkpoint)
    cfg, table = model.config, model.table
    ds = SignDataset.open(args.data)
    phase = cfg.motion.phase_frames
    emb = torch.as_tensor(table.embeddings)
    known = set(table.glosses)

    def posteriors(split: str | None):
        idx = [i for i in ds.indices(split) if ds.records[i]["gloss"] in known]
        if not idx:
            raise SignAvatarError(f"{args.data}: no {split} clips of the model's glosses")
        clips = load_clips(ds, idx, cfg.motion)
        rows = np.array([table.index(g) for g in clips.glosses])
        mus, logvars = encode_posteriors(model.net, clips, rows, emb, model.normalizer, phase)
        return mus, logvars, rows, clips.lengths

    # the clips the training loop fits the prior on (its split), and the held-out ones
    train_mu, train_lv, train_rows, train_len = posteriors(None if cfg.train.split == "all" else "train")
    if sorted(set(train_rows.tolist())) != list(range(len(table))):
        raise SignAvatarError(f"{args.data}: its train split lacks some of the model's glosses; "
                              "refit the prior on the dataset the model was trained on")
    test_mu, _, test_rows, _ = posteriors("test")
    print(f"{len(train_rows)} train posteriors ({len(table)} glosses), {len(test_rows)} held-out test posteriors; "
          f"latent width {train_mu.shape[1]}")
    print("kernel       bandwidth  held-out log-lik (nats/clip, mean)   median")
    if model.prior is not None:
        ll = model.prior.log_likelihood(test_mu, test_rows)
        kind = "correlated" if model.prior.mixing is not None else "diagonal"
        print(f"{'current':12s} {model.prior.bandwidth:9.2f}  {ll.mean():12.1f} ({kind}){'':17s}{np.median(ll):8.1f}")
    chosen = None
    for correlated in (False, True):
        for bw in bandwidths:
            prior = GlossPrior.fit(train_mu, train_rows, train_len, len(table), train_lv, bandwidth=bw,
                                   correlated=correlated, seed=cfg.train.seed)
            ll = prior.log_likelihood(test_mu, test_rows)
            print(f"{'correlated' if correlated else 'diagonal':12s} {bw:9.2f}  {ll.mean():12.1f}{'':30s}"
                  f"{np.median(ll):8.1f}")
            if args.bandwidth is not None and bw == args.bandwidth and correlated != args.diagonal:
                chosen = prior
    if args.write:
        chosen.save(model.folder / PRIOR_FILE)
        from .card import refresh_sampling_row

        refresh_sampling_row(model.folder)
        kind = "diagonal" if args.diagonal else "correlated"
        print(f"wrote the {kind} prior (bandwidth {args.bandwidth:g}) to {model.folder / PRIOR_FILE}")
    return 0
