"""Registration: enabling and disabling the add-on twice leaves Blender exactly as it was; panels draw."""

from __future__ import annotations

import pytest

from conftest import ADDON, enable_addon, sub


def _snapshot():
    import bpy

    handlers = {name: len(getattr(bpy.app.handlers, name)) for name in dir(bpy.app.handlers)
                if isinstance(getattr(bpy.app.handlers, name), list)}
    return {
        "types": sorted(n for n in dir(bpy.types) if n.upper().startswith("SIGNAVATAR")),
        "scene_prop": hasattr(bpy.types.Scene, "signavatar"),
        "wm_prop": hasattr(bpy.types.WindowManager, "signavatar"),
        "ops": sorted(dir(bpy.ops.signavatar)),
        "handlers": handlers,
        "addons": sorted(bpy.context.preferences.addons.keys()),
    }


def test_register_unregister_twice_leaves_nothing_behind():
    import bpy  # noqa: F401
    import addon_utils

    enable_addon()
    addon_utils.disable(ADDON, default_set=True)
    before = _snapshot()
    assert before["types"] == [] and not before["scene_prop"] and not before["wm_prop"]
    for _ in range(2):
        assert addon_utils.enable(ADDON, default_set=True) is not None
        on = _snapshot()
        assert "SIGNAVATAR_PT_sign" in on["types"] and on["scene_prop"] and on["wm_prop"]
        assert {"generate", "create_avatar", "sign_from_video", "export_npz"} <= set(on["ops"])
        assert on["handlers"] == before["handlers"]  # the add-on installs no app handlers
        assert on["addons"] == sorted(before["addons"] + [ADDON])
        addon_utils.disable(ADDON, default_set=True)
        assert _snapshot() == before


def test_registering_imports_nothing_heavy():
    import subprocess
    import sys

    from conftest import REPO

    code = ("import sys; sys.path.insert(0, %r); import conftest; conftest.enable_addon(); "
            "print(sorted(m for m in ('torch', 'cv2', 'mediapipe', 'open_clip', 'transformers') if m in sys.modules))"
            % str(REPO / "tests" / "blender"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1] == "[]"


class FakeLayout:
    """Records what a panel draws; refuses unknown properties and operators like Blender would."""

    def __init__(self, log):
        self.log = log
        self.enabled = True
        self.active = True
        self.scale_y = 1.0

    def _child(self, *a, **k):
        return FakeLayout(self.log)

    row = column = box = grid_flow = split = _child

    def prop(self, data, name, **kw):
        assert name in data.bl_rna.properties, f"no property {name} on {data}"
        self.log.append(("prop", name, self.enabled))

    def label(self, text="", **kw):
        self.log.append(("label", text))

    def progress(self, factor=0.0, text="", **kw):
        self.log.append(("progress", text, factor))

    def operator(self, idname, text="", **kw):
        import bpy

        mod, name = idname.split(".")
        assert hasattr(getattr(bpy.ops, mod), name), f"no operator {idname}"
        self.log.append(("operator", idname, text, self.enabled))

        class Props:
            pass

        return Props()

    def separator(self, **kw):
        pass


def draw(panel_name):
    import bpy

    from types import SimpleNamespace

    log = []
    cls = getattr(bpy.types, panel_name)
    cls.draw(SimpleNamespace(layout=FakeLayout(log)), bpy.context)
    return log


@pytest.mark.parametrize("panel", ["SIGNAVATAR_PT_avatar", "SIGNAVATAR_PT_sign", "SIGNAVATAR_PT_image",
                                   "SIGNAVATAR_PT_video", "SIGNAVATAR_PT_export"])
def test_panels_draw(addon, panel):
    import bpy

    log = draw(panel)
    assert any(e[0] == "operator" for e in log)
    assert getattr(bpy.types, panel).bl_category == "SignAvatar"


def test_sign_panel_shows_match_suggestions_and_progress(addon):
    import bpy

    st = bpy.context.window_manager.signavatar
    st.last_match = "\u201cthank you\u201d \u2192 thankyou (exact)"
    st.suggestions = "drink,water"
    st.busy, st.progress, st.task = True, 0.4, "Loading the model"
    log = draw("SIGNAVATAR_PT_sign")
    assert ("label", st.last_match) in log
    assert [e[2] for e in log if e[0] == "operator" and e[1] == "signavatar.use_suggestion"] == ["drink", "water"]
    assert ("progress", "Loading the model", pytest.approx(0.4)) in log
    generate = [e for e in log if e[0] == "operator" and e[1] == "signavatar.generate"]
    assert generate and generate[0][3] is False  # greyed out while busy


def test_panels_say_why_features_are_unavailable(addon, monkeypatch):
    import bpy

    deps = sub("signavatar_blender.runtime_bridge.deps")
    monkeypatch.setattr(deps, "_cache", {f: ("torch",) for f in deps.FEATURES})
    log = draw("SIGNAVATAR_PT_sign")
    text = " ".join(e[1] for e in log if e[0] == "label")
    assert "torch" in text and "Install Dependencies" in text
    assert not bpy.ops.signavatar.generate.poll()
    with pytest.raises(RuntimeError, match="Install Dependencies"):
        bpy.ops.signavatar.generate()
    video = " ".join(e[1] for e in draw("SIGNAVATAR_PT_video") if e[0] == "label")
    assert "Install Dependencies" in video


def test_image_panel_works_without_clip_and_shows_what_was_seen(addon):
    import bpy

    text = " ".join(e[1] for e in draw("SIGNAVATAR_PT_image") if e[0] == "label")
    assert "CLIP" not in text and bpy.ops.signavatar.sign_from_image.poll()
    st = bpy.context.window_manager.signavatar
    st.image_result = "cup.png: looks like espresso (0.95) \u2192 coffee"
    st.image_evidence = "looks like espresso (0.95) \u2192 coffee\nlooks like cup (0.01)"
    st.image_suggestions = "tea,cocoa"
    log = draw("SIGNAVATAR_PT_image")
    assert ("label", st.image_result) in log and ("label", "looks like cup (0.01)") in log
    assert [e[2] for e in log if e[0] == "operator" and e[1] == "signavatar.use_suggestion"] == ["tea", "cocoa"]


def test_preferences_draw_and_accessor(addon):
    import bpy

    from types import SimpleNamespace

    from conftest import ADDON

    prefs = bpy.context.preferences.addons[ADDON].preferences
    log = []
    proxy = SimpleNamespace(layout=FakeLayout(log), model_folder=prefs.model_folder, clip_weights=prefs.clip_weights,
                            device=prefs.device, bl_rna=prefs.bl_rna)
    type(prefs).draw(proxy, bpy.context)
    labels = " ".join(e[1] for e in log if e[0] == "label")
    assert "embedded model" in labels and "Signs from text: ready" in labels
    assert "Online access is off" in labels  # the bpy module starts offline
    s = sub("signavatar_blender.ui.preferences").settings()
    assert s.model_is_default and s.clip_weights is None and s.device == "cpu"
    prefs.device = "CUDA"
    prefs.clip_weights = "/data/weights.safetensors"
    s = sub("signavatar_blender.ui.preferences").settings()
    assert s.device == "cuda" and s.clip_weights.name == "weights.safetensors"


def test_data_changing_operators_are_undoable_and_drops_are_handled(addon):
    import bpy

    for name in ("create_avatar", "use_selected_armature", "generate", "sign_from_image", "sign_from_video"):
        op = getattr(bpy.types, f"SIGNAVATAR_OT_{name}")
        assert "UNDO" in op.bl_options, name
    image = bpy.types.SIGNAVATAR_FH_image
    assert image.bl_import_operator == "signavatar.sign_from_image" and ".png" in image.bl_file_extensions
    assert bpy.types.SIGNAVATAR_FH_video.bl_import_operator == "signavatar.sign_from_video"
