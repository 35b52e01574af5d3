"""``python -m model_runtime evaluate``: the Table I protocol, its plot, and the Table II ablations."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser(
        "evaluate", help="judge a trained model with an STGCN recognizer (accuracy, FID, diversity, multimodality)",
        description="Train (or reuse) an STGCN recognizer on the dataset's Raw train split, then measure Raw, "
                    "reconstructed and generated clips on the train and test splits over several seeds. "
                    "Writes report.json, report.md and report.png to --out.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--checkpoint", metavar="RUN",
                   help="trained model folder (needed for the Rec and Gen groups); in an ablation, the default "
                        "variant (curriculum / QC) already trained on --data")
    p.add_argument("--data", metavar="DIR", help="built dataset folder ('data build' output)")
    p.add_argument("--out", metavar="DIR", help="report folder [default: RUN/evaluation/<data name>[-signer], "
                                                "or evaluation/<data name> without a checkpoint]")
    p.add_argument("--recognizer", metavar="DIR",
                   help="recognizer folder, reused when trained on the same data and split "
                        "[default: OUT/recognizer, or OUT/recognizer for an ablation]")
    p.add_argument("--retrain-recognizer", action="store_true", help="train a new recognizer even if one fits")
    p.add_argument("--recognizer-epochs", type=int, default=30)
    p.add_argument("--recognizer-max-per-gloss", type=int, default=0,
                   help="each recognizer epoch draws at most N train clips per gloss (0 = all): bounds CPU time and "
                        "balances glosses on sets dominated by a few")
    p.add_argument("--joint-set", choices=("signing", "all"), default="signing",
                   help="joints the recognizer sees: 45 signing joints or all 55")
    p.add_argument("--split", choices=("gloss", "signer"), default="gloss",
                   help="per-gloss 8:2 split, or the signer-disjoint one (test signers unseen in training)")
    p.add_argument("--min-samples", type=int, default=0,
                   help="evaluate only glosses with at least N clips in the dataset (the paper's full set: 18)")
    p.add_argument("--min-signers", type=int, default=0,
                   help="evaluate only glosses recorded by at least N signers in the dataset (the subset: 5)")
    p.add_argument("--seeds", type=int, default=10, help="repetitions for the confidence intervals")
    p.add_argument("--groups", default="raw,rec,gen", help="comma-separated subset of raw,rec,gen")
    p.add_argument("--max-clips", type=int, default=0, help="cap clips per split with a fixed seeded subset (0 = all)")
    p.add_argument("--rec-sample", action="store_true",
                   help="sample the latent when reconstructing instead of decoding its mean")
    p.add_argument("--temperature", type=float, default=1.0,
                   help="latent scale of the generated (Gen) clips: 1 samples the prior as in the paper; lower "
                        "trades diversity for recognisable signs")
    p.add_argument("--prior", choices=["gloss", "normal"], default=None,
                   help="latent prior of the Gen clips: the model's default (the per-gloss prior when the model "
                        "has one), 'gloss', or 'normal' (z ~ N(0, I), the paper's)")
    p.add_argument("--batch-size", type=int, default=64, help="clips per model call")
    p.add_argument("--mm-min-samples", type=int, default=5,
                   help="multimodality uses glosses with at least this many clips in a group")
    p.add_argument("--threads", type=int, default=1,
                   help="CPU threads for torch (0 = torch's default); the small recognizer gains little from more, "
                        "and extra threads spin on a busy machine")
    p.add_argument("--ablation", choices=("curriculum", "qc"),
                   help="curriculum: train with and without the curriculum on --data; qc: build --sources with and "
                        "without quality control and train on each")
    p.add_argument("--train", action="store_true",
                   help="train the model to evaluate (with --train-args) into OUT/runs/ instead of loading "
                        "--checkpoint; with --split signer it is trained on the signer-disjoint train split, so the "
                        "test signers are unseen by the model as well as by the recognizer")
    p.add_argument("--sources", nargs="+", metavar="SRC",
                   help="sources for 'data build' (--ablation qc; with --data, that dataset is the QC variant and "
                        "only the no-QC one is built, with --build-args, which must match how --data was built)")
    p.add_argument("--build-args", default="", metavar="'ARGS'",
                   help="extra 'data build' arguments, one quoted string (--ablation qc)")
    p.add_argument("--card", metavar="NAME",
                   help="also write this evaluation (Table I, targets, the command) into the checkpoint's "
                        "MODEL_CARD.md under the heading NAME, replacing an earlier block of that name")
    p.add_argument("--train-args", default="", metavar="'ARGS'",
                   help="extra 'train' arguments, one quoted string (ablations, --train)")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from ..errors import SignAvatarError
    from .ablation import run_ablation, train_and_evaluate
    from .protocol import ProtocolConfig
    from .report import card_block, check_card, plot, update_model_card
    from .runner import EvalJob, RecognizerSettings, run_job

    problems = []
    if args.ablation != "qc" and not args.data:
        problems.append("--data DIR is required")
    if (args.ablation or args.train) and not args.out:
        problems.append("--ablation and --train need --out DIR (where runs and the report go)")
    if args.train and (args.checkpoint or args.ablation):
        problems.append("--train trains its own model: leave out --checkpoint and --ablation")
    if args.ablation == "qc" and not args.sources:
        problems.append("--ablation qc needs --sources SRC [SRC ...]")
    if args.card and not args.checkpoint:
        problems.append("--card NAME writes into a checkpoint's model card: give --checkpoint RUN")
    if args.card and args.ablation:
        problems.append("--card is for one model's Table I, not an ablation")
    if args.recognizer_epochs < 1:
        problems.append(f"--recognizer-epochs must be >= 1, got {args.recognizer_epochs}")
    if problems:
        raise SignAvatarError("; ".join(problems))
    if args.threads > 0:
        import torch

        torch.set_num_threads(args.threads)
    groups = tuple(g.strip() for g in args.groups.split(",") if g.strip())
    protocol = ProtocolConfig(seeds=args.seeds, split_kind=args.split, groups=groups, rec_sample=args.rec_sample,
                              temperature=args.temperature, prior=args.prior or "",
                              batch_size=args.batch_size, max_clips=args.max_clips,
                              multimodality_min_samples=args.mm_min_samples, min_samples=args.min_samples,
                              min_signers=args.min_signers)
    settings = RecognizerSettings(epochs=args.recognizer_epochs, max_per_gloss=args.recognizer_max_per_gloss,
                                  joint_set=args.joint_set,
                                  retrain=args.retrain_recognizer)
    data = Path(args.data) if args.data else None
    checkpoint = Path(args.checkpoint) if args.checkpoint else None
    if args.out:
        out = Path(args.out)
    else:
        name = data.name + ("-signer" if args.split == "signer" else "")
        out = (checkpoint / "evaluation" / name) if checkpoint else Path("evaluation") / name
    recognizer_dir = Path(args.recognizer) if args.recognizer else out / "recognizer"
    if args.ablation:
        template = EvalJob(data=data or out, out=out, recognizer_dir=recognizer_dir, protocol=protocol,
                           recognizer=settings)
        run_ablation(args.ablation, out, template, data=data, sources=args.sources, checkpoint=checkpoint,
                     train_args=args.train_args, build_args=args.build_args)
        return 0
    job = EvalJob(data=data, out=out, recognizer_dir=recognizer_dir, checkpoint=checkpoint, protocol=protocol,
                  recognizer=settings)
    if args.card:  # refuse a card that cannot be updated before spending the evaluation's time
        card_path = checkpoint / "MODEL_CARD.md"
        check_card(card_path)
    result = train_and_evaluate(out, job, data, args.train_args) if args.train else run_job(job)
    if args.card:
        import shlex
        import sys

        if sys.argv[1:2] == ["evaluate"]:
            result["command"] = "python -m model_runtime " + shlex.join(sys.argv[1:])
        update_model_card(card_path, args.card, card_block(result, args.card))
        print(f"model card: {card_path} (section '{args.card}')")
    plot({"model": result}, out / "report.png", title=f"{data.name}: accuracy and FID per group")
    print(f"plot: {out / 'report.png'}")
    return 0
