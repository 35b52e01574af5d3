"""Ablations (the paper's Table II): train and evaluate model variants against one yardstick.

* ``curriculum``: the same dataset, a model trained with the curriculum and one trained
  with ``--no-curriculum``; both judged by one recognizer on that dataset.
* ``qc``: the same sources built with and without quality control (``--no-qc``), a model
  trained on each, both judged by the recognizer trained on the *quality-controlled*
  Raw train split and against its Raw sets (glosses and lengths of its clips), so their
  figures share one feature space and one reference. The no-QC set's splits are aligned
  to the QC set's (:func:`align_splits`) so neither model trains on a reference test clip.

Work already done is reused: a dataset folder holding ``index.csv`` is not rebuilt, and a
run folder that loads as a model is not retrained. Builds and training go through the
project's own commands (``data build``, ``train``) in this process.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Callable

from ..atomic import write_csv
from ..errors import SignAvatarError
from .report import plot, write_ablation_report
from .runner import EvalJob, load_model, run_job

NOTES = {
    "curriculum": "Same dataset and recognizer; models trained with the curriculum (default) and with "
                  "`--no-curriculum`. Target: the curriculum lowers Gen FID.",
    "qc": "Same sources built with quality control (default) and with `--no-qc`; both models judged by the "
          "recognizer trained on the quality-controlled Raw train split, against its Raw sets.",
}


def _command(argv: list[str], what: str, log: Callable[[str], None]) -> None:
    import torch

    from .. import cli

    log(f"$ python -m model_runtime {shlex.join(argv)}")
    threads = torch.get_num_threads()
    try:
        rc = cli.main(argv)
    finally:
        torch.set_num_threads(threads)  # the command may have set its own
    if rc != 0:
        raise SignAvatarError(f"{what} failed (exit code {rc}): python -m model_runtime {shlex.join(argv)}")


def ensure_run(run: Path, data: Path, extra: list[str], log: Callable[[str], None]) -> Path:
    """Train ``run`` on ``data`` unless it already holds a loadable model."""
    if run.exists():
        try:
            load_model(run)
            log(f"run {run}: already trained, reused")
            return run
        except SignAvatarError:
            pass
    _command(["train", "--data", str(data), "--out", str(run), *extra], f"training {run.name}", log)
    return run


def ensure_dataset(out: Path, sources: list[str], extra: list[str], log: Callable[[str], None]) -> Path:
    if (out / "index.csv").is_file():
        log(f"dataset {out}: already built, reused")
        return out
    _command(["data", "build", *sources, "--out", str(out), *extra], f"building {out.name}", log)
    return out


def align_splits(target: Path, reference: Path) -> int:
    """Give every clip of ``target`` that also exists in ``reference`` (same ``clip_id``) the reference's splits.

    The builder's splits depend on the clip list, so a no-QC build would put some of the
    QC set's test clips in its train split; aligning them keeps the QC set's test clips out
    of both models' training. Clips only in ``target`` keep their own split. Rewrites
    ``target/index.csv`` (columns and order unchanged); returns how many clips moved.
    """
    import csv

    with open(reference / "index.csv", newline="") as f:
        ref = {r["clip_id"]: (r["split"], r["signer_split"]) for r in csv.DictReader(f)}
    with open(target / "index.csv", newline="") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames
        rows = list(reader)
    moved = 0
    for r in rows:
        if r["clip_id"] in ref and (r["split"], r["signer_split"]) != ref[r["clip_id"]]:
            r["split"], r["signer_split"] = ref[r["clip_id"]]
            moved += 1
    if moved:
        write_csv(target / "index.csv", fields, rows)
    return moved


def signer_view(source: Path, view: Path) -> Path:
    """A dataset folder whose ``split`` column is ``source``'s signer-disjoint split.

    ``train`` trains on the ``split`` column only, so a model trained on this view never
    sees the test signers. The arrays are linked (copied where links are not possible);
    only ``index.csv`` is rewritten.
    """
    import csv
    import shutil

    with open(source / "index.csv", newline="") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames
        rows = list(reader)
    if not any(r["signer_split"] for r in rows):
        raise SignAvatarError(f"{source}: no signer-disjoint split in this dataset; rebuild it with "
                              "'data build ... --signer-split'")
    view.mkdir(parents=True, exist_ok=True)
    for name in ("poses.npy", "trans.npy", "card.json"):
        target = view / name
        if target.exists() or target.is_symlink():
            target.unlink()
        if (source / name).exists():
            try:
                target.symlink_to((source / name).resolve())
            except OSError:
                shutil.copyfile(source / name, target)
    for r in rows:
        r["split"] = r["signer_split"]
    write_csv(view / "index.csv", fields, rows)
    return view


def train_and_evaluate(out: Path, job_template: EvalJob, data: Path, train_args: str = "",
                       log: Callable[[str], None] = print) -> dict:
    """Train a model for this evaluation (on the signer-disjoint train split when the job's split is 'signer')."""
    out = Path(out)
    if job_template.protocol.split_kind == "signer":
        train_data = signer_view(Path(data), out / "data" / "signer_view")
        run = out / "runs" / "signer_disjoint"
    else:
        train_data, run = Path(data), out / "runs" / "model"
    ensure_run(run, train_data, shlex.split(train_args), log)
    job = EvalJob(data=Path(data), out=out, recognizer_dir=job_template.recognizer_dir, checkpoint=run,
                  protocol=job_template.protocol, recognizer=job_template.recognizer, title=job_template.title)
    return run_job(job, log)


def run_ablation(name: str, out: Path, job_template: EvalJob, *, data: Path | None = None,
                 sources: list[str] | None = None, checkpoint: Path | None = None, train_args: str = "",
                 build_args: str = "", log: Callable[[str], None] = print) -> dict:
    """Build/train what is missing, evaluate every variant, write OUT/report.{json,md} and OUT/ablation.png."""
    out = Path(out)
    train_extra = shlex.split(train_args)
    build_extra = shlex.split(build_args)
    if name == "curriculum":
        if data is None:
            raise SignAvatarError("--ablation curriculum needs --data DIR (a built dataset)")
        runs = {"curriculum": Path(checkpoint) if checkpoint else out / "runs" / "curriculum",
                "no curriculum": out / "runs" / "no_curriculum"}
        ensure_run(runs["curriculum"], data, train_extra, log)
        ensure_run(runs["no curriculum"], data, [*train_extra, "--no-curriculum"], log)
        reference = Path(data)
    elif name == "qc":
        if not sources:
            raise SignAvatarError("--ablation qc needs --sources SRC [SRC ...] (what 'data build' reads)")
        # --data: an existing quality-controlled build of the same sources and settings is the QC variant
        qc_data = Path(data) if data else ensure_dataset(out / "data" / "qc", sources, build_extra, log)
        raw_data = ensure_dataset(out / "data" / "no_qc", sources, [*build_extra, "--no-qc"], log)
        moved = align_splits(raw_data, qc_data)
        log(f"dataset {raw_data}: {moved} clip(s) moved to the reference's split (no test clip of the QC set is "
            "trained on)")
        qc_run = Path(checkpoint) if checkpoint else out / "runs" / "qc"  # --checkpoint: trained on --data already
        runs = {"QC": ensure_run(qc_run, qc_data, train_extra, log),
                "no QC": ensure_run(out / "runs" / "no_qc", raw_data, train_extra, log)}
        reference = qc_data
    else:
        raise SignAvatarError(f"unknown ablation {name!r}; choose 'curriculum' or 'qc'")
    variants = {}
    for label, run in runs.items():
        job = EvalJob(data=reference, out=out / "variants" / label.replace(" ", "_"),
                      recognizer_dir=job_template.recognizer_dir, checkpoint=run, protocol=job_template.protocol,
                      recognizer=job_template.recognizer, title=f"Ablation {name}: {label}")
        log(f"== variant {label}: {run}")
        variants[label] = run_job(job, log)
    write_ablation_report(name, variants, out, NOTES[name])
    plot(variants, out / "ablation.png", title=f"ablation: {name}")
    log(f"wrote {out / 'report.md'} and {out / 'ablation.png'}")
    return variants
