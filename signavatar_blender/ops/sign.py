"""Sign operators: generate from a gloss or text, and from an image (both long-running, see :mod:`.jobs`).

Images: the model's ``match_image`` reads printed words and recognises objects offline
(``model_runtime.vision``) or, for a CLIP model with its weights, matches by CLIP.
"""

from __future__ import annotations

import bpy
from bpy.props import StringProperty

from .. import runtime_bridge as bridge
from ..rig import placing
from ..runtime_bridge import deps, models
from ..runtime_bridge.formats import IMAGE_EXTENSIONS
from ..ui.preferences import settings
from . import jobs


def _match_text(m, text: str) -> str:
    how = "exact" if m.exact else f"{m.score:.2f}"
    return f"\u201c{text}\u201d \u2192 {m.gloss} ({how})"


def _image_match_text(name: str, m) -> str:
    """``photo.png: read “HELLO” (0.99, …) → hello`` (offline reader) or the CLIP similarity."""
    if getattr(m, "evidence", ()):
        return f"{name}: {m.summary}"
    return f"{name} \u2192 {m.gloss} (CLIP {m.score:.2f})"


class _SignJob(jobs.ModalJobOperator):
    @classmethod
    def unavailable(cls, context) -> str:
        return deps.why_unavailable("generate")

    def failed(self, context, exc) -> None:
        state = context.window_manager.signavatar
        state.suggestions = ",".join(getattr(exc, "suggestions", ()) or ())

    def _key_signs(self, context, result, suffix="") -> set:
        match_text, motions = result
        binding = placing.target_binding(context)  # again: the scene may have changed while we worked
        keyed = placing.key_all(context, binding, motions, self._where, name_suffix=suffix)
        state = context.window_manager.signavatar
        state.last_match = match_text
        state.suggestions = ""
        first, last = keyed[0].frame_start, keyed[-1].frame_end
        n = len(keyed)
        self.report({"INFO"}, f"{match_text}: {n} sign{'s' if n > 1 else ''} keyed on '{binding.obj.name}', "
                              f"frames {first:g}\u2013{last:g}")
        return {"FINISHED"}


class SIGNAVATAR_OT_generate(_SignJob, bpy.types.Operator):
    """Generate the sign typed in the Sign field and key it on the avatar"""

    bl_idname = "signavatar.generate"
    bl_label = "Generate"
    bl_options = {"REGISTER", "UNDO"}
    task_label = "Generating"

    def prepare(self, context):
        props = context.scene.signavatar
        text = props.gloss.strip()
        placing.validate(context, "" if text else
                         "type a sign in the Sign field (a gloss such as 'drink', or a word or phrase)")
        s = settings(context)
        seed, n, temp = int(props.seed), int(props.variations), float(props.temperature)
        self._where = placing.placement(context)
        loaded = models.cached(s) is not None

        def work(job):
            job.report(0.05, "Generating" if loaded else "Loading the model (first time only)")
            gen = models.generator(s)
            job.check()
            m = gen.match(text)  # a refusal carries its suggestions (close spellings, then nearest by meaning)
            job.report(0.5, f"Generating {m.gloss}")
            motions = gen.generate(m.gloss, seed=seed, n=n, temperature=temp)
            return _match_text(m, text), motions

        return work

    def finish(self, context, result):
        return self._key_signs(context, result)


class SIGNAVATAR_OT_sign_from_image(_SignJob, jobs.FileInputJobOperator, bpy.types.Operator):
    """Sign what a picture shows (a printed word, or one object): pick a file, or drop one on the 3D viewport"""

    bl_idname = "signavatar.sign_from_image"
    bl_label = "Sign from Image"
    bl_options = {"REGISTER", "UNDO"}
    task_label = "Signing the image"
    path_prop, extensions, kind = "image_path", IMAGE_EXTENSIONS, "image"

    filepath: StringProperty(subtype="FILE_PATH", options={"SKIP_SAVE"})
    filter_image: bpy.props.BoolProperty(default=True, options={"HIDDEN", "SKIP_SAVE"})
    filter_folder: bpy.props.BoolProperty(default=True, options={"HIDDEN", "SKIP_SAVE"})

    @classmethod
    def unavailable(cls, context) -> str:
        return deps.why_unavailable("image")

    def failed(self, context, exc) -> None:
        state = context.window_manager.signavatar
        state.image_result = f"{getattr(self, '_name', 'image')}: no sign"
        state.image_evidence = "\n".join(e.describe() for e in getattr(exc, "evidence", ()) or ())
        state.image_suggestions = ",".join(getattr(exc, "suggestions", ()) or ())

    def prepare(self, context):
        path, problems = self.input_path(context)
        if not problems:
            try:  # the header only (missing, foreign or oversized file), before the model loads
                bridge.runtime("imageio").check_image(path)
            except bridge.error() as e:
                problems.append(str(e))
        s = settings(context)
        if s.clip_weights is not None and not s.clip_weights.is_file():
            problems.append(f"CLIP weights file not found: {s.clip_weights}; fix or clear 'CLIP Weights' in "
                            "Preferences > Add-ons > SignAvatar")
        placing.validate(context, *problems)
        props = context.scene.signavatar
        seed, n, mode = int(props.seed), int(props.variations), props.image_mode
        temp = float(props.temperature)
        self._where = placing.placement(context)
        self._image, self._name = str(path), path.name

        def work(job):
            job.report(0.05, "Loading the model" if models.cached(s) is None else f"Reading {path.name}")
            gen = models.generator(s)
            job.check()
            job.report(0.3, f"Reading {path.name}")
            if mode == "nearest_gloss":
                m = gen.match_image(str(path))
                job.check()
                job.report(0.7, f"Generating {m.gloss}")
                motions = gen.generate(m.gloss, seed=seed, n=n, temperature=temp)
                evidence = [e.describe() for e in getattr(m, "evidence", ())] + list(getattr(m, "notes", ()))
                return _image_match_text(path.name, m), motions, evidence, tuple(m.suggestions)
            motions = gen.generate_from_image(str(path), seed=seed, n=n, mode="embedding", temperature=temp)
            return f"{path.name} \u2192 its own CLIP embedding", motions, [], ()

        return work

    def finish(self, context, result):
        text, motions, evidence, alternatives = result
        out = self._key_signs(context, (text, motions))
        state = context.window_manager.signavatar
        state.image_result = text
        state.image_evidence = "\n".join(evidence)
        state.image_suggestions = ",".join(alternatives)
        context.scene.signavatar.image_path = self._image
        return out


class SIGNAVATAR_OT_generate_sentence(_SignJob, bpy.types.Operator):
    """Sign the words of the Sentence field as one clip with natural transitions (unknown words are fingerspelled)"""

    bl_idname = "signavatar.generate_sentence"
    bl_label = "Sign Sentence"
    bl_options = {"REGISTER", "UNDO"}
    task_label = "Signing the sentence"

    def prepare(self, context):
        props = context.scene.signavatar
        text = " ".join(props.sentence.split())
        placing.validate(context, "" if text else "type the words to sign in the Sentence field (e.g. 'hello my name')")
        s = settings(context)
        seed, hold, temp = int(props.seed), float(props.sentence_hold), float(props.temperature)
        self._where = placing.placement(context)

        def work(job):
            job.report(0.05, "Loading the model" if models.cached(s) is None else "Signing")
            gen = models.generator(s)
            job.check()
            res = bridge.runtime("sentence").generate_sentence(text, generator=gen, seed=seed, hold=hold,
                                                           temperature=temp)
            words = ", ".join(f"{r.word} → {r.gloss}" for r in res.ranges)
            notices = "; ".join(res.notices)
            return f"“{text}”: {words}" + (f" ({notices})" if notices else ""), [res.motion]

        return work

    def finish(self, context, result):
        return self._key_signs(context, result)


class SIGNAVATAR_OT_use_suggestion(bpy.types.Operator):
    """Put this suggestion in the Sign field"""

    bl_idname = "signavatar.use_suggestion"
    bl_label = "Use Suggestion"
    bl_options = {"INTERNAL"}

    gloss: StringProperty()

    def execute(self, context):
        context.scene.signavatar.gloss = self.gloss
        context.window_manager.signavatar.suggestions = ""
        context.window_manager.signavatar.image_suggestions = ""
        return {"FINISHED"}


classes = (SIGNAVATAR_OT_generate, SIGNAVATAR_OT_generate_sentence, SIGNAVATAR_OT_sign_from_image,
           SIGNAVATAR_OT_use_suggestion)
